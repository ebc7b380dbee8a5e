"""``SqlSensor``: wait until a SQL query returns a row that says "done".

Airflow's ``airflow.providers.common.sql.sensors.sql.SqlSensor`` (also ``airflow.sensors.sql``).
Each poke runs ``sql`` once on the connection ``conn_id``, through the same connection -> hook
lookup as the SQL operators (:func:`~updraft.providers.common.sql.operators.base.get_db_hook`), so
any database whose hook is a ``DbApiHook`` works (PostgreSQL, SQLite...). Only the first row
counts; ``selector`` picks the value to judge from it (its first cell by default):

1. no row: poke again, or fail the task at once with ``fail_on_empty``;
2. ``failure(value)`` true: fail the task (a plain task failure, retried like any other, not a
   sensor timeout);
3. ``success(value)`` when given, else the truth of the value (``0``, ``'0'``, ``''``, ``None``
   mean "not yet"), decides whether the wait is over.

It lives with the other sensors rather than under ``providers``: the sensor base belongs to the
operators layer, which the providers layer may not import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, ClassVar

from updraft.operators.sensors.base import BaseSensorOperator
from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.common.sql.operators.base import get_db_hook
from updraft.sdk.exceptions import UpdraftException

__all__ = ["SqlSensor"]


class SqlSensor(BaseSensorOperator):
    """Run ``sql`` on ``conn_id`` at every poke until the first row's selected value says done.

    ``parameters`` are bound to the query. ``selector(row)`` turns the first row into the value
    judged (default: its first cell). ``failure(value)`` returning true fails the task; it is
    asked before ``success(value)``, which (when given) decides success instead of the value's
    truth. ``fail_on_empty`` fails the task when the query returns no row instead of poking again.
    ``hook_params`` are passed to the hook's constructor. ``sql``, ``parameters`` and
    ``hook_params`` are templated; ``sql`` may name a ``.sql`` (or ``.hql``) template file.
    """

    template_fields: ClassVar[Sequence[str]] = ("sql", "hook_params", "parameters")
    template_ext: ClassVar[Sequence[str]] = (".hql", ".sql")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql", "parameters": "json"}
    ui_color = "#7c7287"

    def __init__(
        self,
        *,
        conn_id: str,
        sql: str,
        parameters: Mapping[str, Any] | Iterable[Any] | None = None,
        success: Callable[[Any], Any] | None = None,
        failure: Callable[[Any], Any] | None = None,
        selector: Callable[[Any], Any] = itemgetter(0),
        fail_on_empty: bool = False,
        hook_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, value in (("success", success), ("failure", failure), ("selector", selector)):
            if value is not None and not callable(value):
                raise TypeError(
                    f"SqlSensor {self.task_id!r}: {name} must be a callable taking the selected value, "
                    f"got {type(value).__name__} {value!r}"
                )
        self.conn_id = conn_id
        self.sql = sql
        self.parameters = parameters
        self.success = success
        self.failure = failure
        self.selector = selector
        self.fail_on_empty = fail_on_empty
        self.hook_params = hook_params
        self._hook: DbApiHook | None = None

    def _get_hook(self) -> DbApiHook:
        """The SQL hook for ``conn_id`` (looked up on the first poke, after templates are rendered)."""
        if self._hook is None:
            self._hook = get_db_hook(self.conn_id, dict(self.hook_params or {}))
        return self._hook

    def _where(self) -> str:
        return f"SqlSensor {self.task_id!r}" + (f" in DAG {self.dag_id!r}" if self.has_dag() else "")

    def poke(self, context: Any) -> bool:
        self.log.info("Poking: %s (with parameters %s)", self.sql, self.parameters)
        row = self._get_hook().get_first(self.sql, self.parameters)
        if row is None:
            if self.fail_on_empty:
                raise UpdraftException(
                    f"{self._where()}: the query returned no rows and fail_on_empty is set"
                )
            self.log.info("No rows yet")
            return False
        value = self.selector(row)
        if self.failure is not None and self.failure(value):
            raise UpdraftException(
                f"{self._where()}: failure criteria met: failure({value!r}) returned a true value"
            )
        if self.success is not None:
            done = bool(self.success(value))
            if not done:
                self.log.info("success(%r) is false: poking again", value)
            return done
        if not value:
            self.log.info("The selected value %r is false: poking again", value)
        return bool(value)
