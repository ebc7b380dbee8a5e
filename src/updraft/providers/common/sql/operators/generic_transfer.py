"""``GenericTransfer``: copy the rows of a query on one database into a table of another.

Airflow's ``GenericTransfer``, for any two connections whose hooks are ``DbApiHook``\\ s (so
PostgreSQL to SQLite, SQLite to PostgreSQL, or within one database). The source rows are read
with ``get_records`` and written with the destination's ``insert_rows``, which sends them in
``executemany`` batches of ``insert_args["commit_every"]`` rows (1000 by default), never one
statement per row.

- ``preoperator``: SQL run on the destination first (e.g. ``TRUNCATE``/``CREATE TABLE``);
- ``page_size``: read the source in pages (``paginated_sql_statement_clause``, by default
  ``"{} LIMIT {} OFFSET {}"`` filled with the query, the page size and the offset), inserting each
  page before reading the next, so a large table need not fit in memory at once;
- ``rows_processor(rows, **context)``: transforms each list of rows before it is inserted.

Meant, as in Airflow, for modest amounts of data; a bulk path (``COPY``) is faster for big tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, ClassVar

from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.common.sql.operators.base import get_db_hook
from updraft.sdk.baseoperator import BaseOperator

__all__ = ["GenericTransfer"]

DEFAULT_PAGINATION = "{} LIMIT {} OFFSET {}"


def _as_count(value: Any, name: str, task_id: str) -> int | None:
    """A rendered ``page_size``/``commit_every`` (an int, or text from a template) as an int."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError(f"task {task_id!r}: {name} must be a whole number, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TypeError(f"task {task_id!r}: {name} must be a whole number, got {value!r}") from None
    if number < 0 or (number == 0 and name == "page_size"):
        raise ValueError(f"task {task_id!r}: {name} must be positive, got {value!r}")
    return number


class GenericTransfer(BaseOperator):
    """Copy the rows of ``sql`` (on ``source_conn_id``) into ``destination_table`` (on ``destination_conn_id``).

    ``sql`` may be a list of queries, each copied in turn (pagination applies to a single query).
    ``insert_args`` go to the destination hook's ``insert_rows`` (``target_fields``,
    ``commit_every``, ``replace``...). ``deferrable=True`` is accepted and runs the copy directly.
    """

    template_fields: ClassVar[Sequence[str]] = (
        "source_conn_id",
        "destination_conn_id",
        "sql",
        "destination_table",
        "preoperator",
        "insert_args",
        "page_size",
        "paginated_sql_statement_clause",
    )
    template_ext: ClassVar[Sequence[str]] = (".sql", ".hql")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql", "preoperator": "sql"}
    ui_color: ClassVar[str] = "#b0f07c"

    def __init__(
        self,
        *,
        sql: str | list[str],
        destination_table: str,
        source_conn_id: str,
        destination_conn_id: str,
        source_hook_params: dict[str, Any] | None = None,
        destination_hook_params: dict[str, Any] | None = None,
        rows_processor: Callable[..., list[Any]] | None = None,
        preoperator: str | list[str] | None = None,
        insert_args: dict[str, Any] | None = None,
        page_size: int | None = None,
        paginated_sql_statement_clause: str | None = None,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if rows_processor is not None and not callable(rows_processor):
            raise TypeError(f"task {self.task_id!r}: rows_processor must be callable, got {rows_processor!r}")
        if insert_args is not None and not isinstance(insert_args, dict):
            raise TypeError(f"task {self.task_id!r}: insert_args must be a dict, got {insert_args!r}")
        if isinstance(page_size, int):
            _as_count(page_size, "page_size", self.task_id)
        self.sql = sql
        self.destination_table = destination_table
        self.source_conn_id = source_conn_id
        self.source_hook_params = source_hook_params
        self.destination_conn_id = destination_conn_id
        self.destination_hook_params = destination_hook_params
        self.rows_processor = rows_processor
        self.preoperator = preoperator
        self.insert_args = insert_args or {}
        self.page_size = page_size
        self.paginated_sql_statement_clause = paginated_sql_statement_clause or DEFAULT_PAGINATION
        self.deferrable = deferrable
        if deferrable:
            self.log.debug(
                "%r: deferrable=True is accepted and ignored: the copy runs directly", self.task_id
            )

    # -- hooks -------------------------------------------------------------------------------------

    @classmethod
    def get_hook(cls, conn_id: str, hook_params: dict[str, Any] | None = None) -> DbApiHook:
        """The SQL hook of ``conn_id`` (an error names the connection when its type cannot run SQL)."""
        return get_db_hook(conn_id, hook_params)

    @cached_property
    def source_hook(self) -> DbApiHook:
        return self.get_hook(self.source_conn_id, self.source_hook_params)

    @cached_property
    def destination_hook(self) -> DbApiHook:
        return self.get_hook(self.destination_conn_id, self.destination_hook_params)

    # -- running -----------------------------------------------------------------------------------

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        # Templates render to text: numbers given as "{{ ... }}" become ints again.
        self.page_size = _as_count(self.page_size, "page_size", self.task_id)
        if "commit_every" in self.insert_args:
            commit_every = _as_count(self.insert_args["commit_every"], "commit_every", self.task_id)
            self.insert_args = {**self.insert_args, "commit_every": commit_every or 0}

    def get_paginated_sql(self, offset: int) -> str:
        """The query of the page that starts at row ``offset``."""
        return self.paginated_sql_statement_clause.format(self.sql, self.page_size, offset)

    def _insert_rows(self, rows: list[Any], context: Any) -> int:
        if self.rows_processor is not None:
            rows = self.rows_processor(rows, **context)
        if not rows:
            return 0
        self.destination_hook.insert_rows(table=self.destination_table, rows=rows, **self.insert_args)
        return len(rows)

    def execute(self, context: Any) -> None:
        if self.preoperator:
            self.log.info("Running the preoperator on %s", self.destination_conn_id)
            self.destination_hook.run(self.preoperator)
        total = 0
        if self.page_size and isinstance(self.sql, str):
            offset = 0
            while True:
                query = self.get_paginated_sql(offset)
                self.log.info("Reading a page from %s: %s", self.source_conn_id, query)
                rows = self.source_hook.get_records(query) or []
                total += self._insert_rows(list(rows), context)
                if len(rows) < self.page_size:  # a short (or empty) page is the last one
                    break
                offset += self.page_size
        else:
            queries = [self.sql] if isinstance(self.sql, str) else list(self.sql)
            for query in queries:
                self.log.info("Reading from %s: %s", self.source_conn_id, query)
                rows = self.source_hook.get_records(query) or []
                total += self._insert_rows(list(rows), context)
        self.log.info(
            "Copied %s rows from %s into %s on %s",
            total,
            self.source_conn_id,
            self.destination_table,
            self.destination_conn_id,
        )
