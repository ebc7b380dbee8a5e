"""``PostgresOperator``: Airflow's name for ``SQLExecuteQueryOperator`` on a PostgreSQL connection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from updraft.providers.common.sql.operators.execute_query import SQLExecuteQueryOperator

__all__ = ["PostgresOperator"]


def _options(runtime_parameters: Mapping[str, Any]) -> str:
    """libpq ``options`` setting each parameter for the session: ``-c statement_timeout=3000``."""
    escaped = (str(value).replace("\\", "\\\\").replace(" ", "\\ ") for value in runtime_parameters.values())
    return " ".join(f"-c {name}={value}" for name, value in zip(runtime_parameters, escaped))


class PostgresOperator(SQLExecuteQueryOperator):
    """Run ``sql`` on ``postgres_conn_id``; ``database`` overrides the connection's database and
    ``runtime_parameters`` sets session settings (``{"statement_timeout": "3000ms"}``)."""

    def __init__(
        self,
        *,
        sql: str | list[str],
        postgres_conn_id: str = "postgres_default",
        autocommit: bool = False,
        parameters: Mapping[str, Any] | Iterable[Any] | None = None,
        database: str | None = None,
        runtime_parameters: Mapping[str, Any] | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        hook_params = dict(hook_params or {})
        if runtime_parameters:
            hook_params["options"] = _options(runtime_parameters)
        super().__init__(
            sql=sql,
            conn_id=postgres_conn_id,
            autocommit=autocommit,
            parameters=parameters,
            database=database,
            hook_params=hook_params,
            **kwargs,
        )
        self.postgres_conn_id = postgres_conn_id
