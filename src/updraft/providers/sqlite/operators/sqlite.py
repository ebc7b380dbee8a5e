"""``SqliteOperator``: Airflow's name for ``SQLExecuteQueryOperator`` on a SQLite connection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from updraft.providers.common.sql.operators.execute_query import SQLExecuteQueryOperator

__all__ = ["SqliteOperator"]


class SqliteOperator(SQLExecuteQueryOperator):
    """Run ``sql`` on ``sqlite_conn_id``."""

    def __init__(
        self,
        *,
        sql: str | list[str],
        sqlite_conn_id: str = "sqlite_default",
        parameters: Mapping[str, Any] | Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(sql=sql, conn_id=sqlite_conn_id, parameters=parameters, **kwargs)
        self.sqlite_conn_id = sqlite_conn_id
