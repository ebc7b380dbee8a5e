"""``SQLExecuteQueryOperator``: run SQL on any registered database; its rows become the task's XCom."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from updraft.providers.common.sql.hooks.handlers import fetch_all_handler, return_single_query_results
from updraft.providers.common.sql.operators.base import BaseSQLOperator

__all__ = ["SQLExecuteQueryOperator", "default_output_processor", "xcom_safe"]

_KEPT = (str, int, float, bool, type(None), dt.date, dt.time, dt.timedelta, decimal.Decimal, uuid.UUID, bytes)


def xcom_safe(value: Any) -> Any:
    """Rows as lists (tuples, driver row objects and named tuples alike), dict rows as dicts.

    Values the XCom codec stores exactly (numbers, text, Decimal, dates and times, UUID, bytes)
    are kept, so a downstream task gets back what the database returned; anything else (an IP
    address, a range...) becomes its text.
    """
    if isinstance(value, _KEPT):
        return value
    if isinstance(value, Mapping):
        return {str(key): xcom_safe(item) for key, item in value.items()}
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [xcom_safe(item) for item in value]
    return str(value)


def default_output_processor(
    results: list[Any], descriptions: list[Sequence[Sequence[Any]] | None]
) -> list[Any]:
    return results


class SQLExecuteQueryOperator(BaseSQLOperator):
    """Run ``sql`` (a string, a list of statements, or a ``.sql`` template file) on ``conn_id``.

    With ``do_xcom_push`` (the default) the ``handler``'s result (every row, by default) is
    returned and pushed as XCom: one statement's rows, or one list per statement when ``sql`` is
    a list or is split with ``return_last=False``. The statements run in one transaction unless
    ``autocommit``. ``split_statements`` splits a string into statements (None: the hook's default).
    """

    template_fields: ClassVar[Sequence[str]] = ("sql", "parameters", *BaseSQLOperator.template_fields)
    template_ext: ClassVar[Sequence[str]] = (".sql", ".json")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql", "parameters": "json"}
    ui_color = "#cdaaed"

    def __init__(
        self,
        *,
        sql: str | list[str],
        autocommit: bool = False,
        parameters: Mapping[str, Any] | Iterable[Any] | None = None,
        handler: Callable[[Any], Any] | None = fetch_all_handler,
        output_processor: Callable[[list[Any], list[Any]], Any] | None = None,
        conn_id: str | None = None,
        database: str | None = None,
        split_statements: bool | None = None,
        return_last: bool = True,
        show_return_value_in_logs: bool = False,
        requires_result_fetch: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.autocommit = autocommit
        self.parameters = parameters
        self.handler = handler
        self._output_processor = output_processor or default_output_processor
        self.split_statements = split_statements
        self.return_last = return_last
        self.show_return_value_in_logs = show_return_value_in_logs
        self.requires_result_fetch = requires_result_fetch

    def _process_output(self, results: list[Any], descriptions: list[Any]) -> Any:
        """One result per statement in, the operator's return value out (override to reshape it)."""
        if self.show_return_value_in_logs:
            self.log.info("Operator output is: %s", results)
        return self._output_processor(results, descriptions)

    def execute(self, context: Any) -> Any:
        self.log.info("Executing: %s", self.sql)
        hook = self.get_db_hook()
        fetch = self.do_xcom_push or self.requires_result_fetch
        extra = {} if self.split_statements is None else {"split_statements": self.split_statements}
        output = hook.run(
            sql=self.sql,
            autocommit=self.autocommit,
            parameters=self.parameters,
            handler=self.handler if fetch else None,
            return_last=self.return_last,
            **extra,
        )
        if not self.do_xcom_push:
            return None
        if return_single_query_results(self.sql, self.return_last, self.split_statements):
            return xcom_safe(self._process_output([output], hook.descriptions)[-1])
        return xcom_safe(self._process_output(output, hook.descriptions))
