"""``BranchSQLOperator``: follow one set of tasks or another depending on what a SQL query answers.

Airflow's ``BranchSQLOperator`` (``airflow.providers.common.sql.operators.sql``, also
``airflow.operators.sql``). The query runs on ``conn_id`` through the SQL operators' connection ->
hook lookup; the first cell of its first row decides, read as Airflow reads it:

- a boolean as it is;
- an integer: 0 is false, any other integer is true;
- a string, ignoring case and surrounding blanks: ``true``, ``t``, ``yes``, ``y``, ``on``, ``1`` are
  true and ``false``, ``f``, ``no``, ``n``, ``off``, ``0`` are false.

Anything else (NULL, a float, another word, no row at all) fails the task with an error naming
the task and the value. Skipping the branch not taken is :class:`~updraft.operators.branch.BranchMixIn`'s
job, as for every other branch operator. It lives in the operators layer because that mix-in does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from updraft.operators.branch import BranchMixIn
from updraft.providers.common.sql.operators.base import BaseSQLOperator
from updraft.sdk.exceptions import UpdraftException

__all__ = ["FALSE_STRINGS", "TRUE_STRINGS", "BranchSQLOperator", "query_result_as_bool"]

#: Strings read as true and as false (compared in lower case, without surrounding blanks).
TRUE_STRINGS = ("true", "t", "yes", "y", "on", "1")
FALSE_STRINGS = ("false", "f", "no", "n", "off", "0")


def query_result_as_bool(value: Any) -> bool | None:
    """``value`` read as a boolean the way ``BranchSQLOperator`` reads it, or None when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_STRINGS:
            return True
        if word in FALSE_STRINGS:
            return False
    return None


def _first_cell(row: Any) -> Any:
    """The first value of a row as drivers return it (a tuple or list, a mapping, or a bare value)."""
    if isinstance(row, Mapping):
        return next(iter(row.values()), None)
    if isinstance(row, (tuple, list)):
        first = row[0] if row else None
        # Some hooks wrap a row in a list: [[value, ...]].
        return first[0] if isinstance(first, list) and first else first
    return row


class BranchSQLOperator(BranchMixIn, BaseSQLOperator):
    """Run ``sql`` on ``conn_id``; follow ``follow_task_ids_if_true`` when its first cell is true,
    else ``follow_task_ids_if_false`` (task ids, TaskGroup ids, or lists of them).

    ``parameters`` are bound to the query and ``database`` overrides the connection's database.
    ``sql`` is templated and may name a ``.sql`` template file.
    """

    template_fields: ClassVar[Sequence[str]] = ("sql", *BaseSQLOperator.template_fields)
    template_ext: ClassVar[Sequence[str]] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql"}
    ui_color = "#a22034"
    ui_fgcolor = "#F7F7F7"

    def __init__(
        self,
        *,
        sql: str,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        conn_id: str = "default_conn_id",
        database: str | None = None,
        parameters: Mapping[str, Any] | Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.parameters = parameters
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false

    def _where(self) -> str:
        return f"BranchSQLOperator {self.task_id!r}" + (f" in DAG {self.dag_id!r}" if self.has_dag() else "")

    def execute(self, context: Any) -> None:
        self.log.info(
            "Executing: %s (with parameters %s) on connection %r", self.sql, self.parameters, self.conn_id
        )
        row = self.get_db_hook().get_first(self.sql, self.parameters)
        if row is None:
            raise UpdraftException(
                f"{self._where()}: the query returned no rows; it must return one row whose first "
                "value is true or false"
            )
        value = _first_cell(row)
        self.log.info("The query returned %r (%s)", value, type(value).__name__)
        decision = query_result_as_bool(value)
        if decision is None:
            raise UpdraftException(
                f"{self._where()}: cannot read the query's result {value!r} ({type(value).__name__}) "
                "as true or false; expected a boolean, an integer (0 is false) or one of the strings "
                f"{', '.join(TRUE_STRINGS)} (true) and {', '.join(FALSE_STRINGS)} (false)"
            )
        follow = self.follow_task_ids_if_true if decision else self.follow_task_ids_if_false
        self.do_branch(context, follow)
