"""``BaseSQLOperator``: finds the hook for its connection and reports failed checks.

The hook class comes from the connection's ``conn_type`` through ``updraft.providers.registry``,
so one operator serves PostgreSQL, SQLite and any database registered there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NoReturn

from updraft.providers.common.sql.exceptions import SQLCheckFailed, SQLCheckFailedNoRetry
from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.registry import HookNotFound, hook_class
from updraft.sdk.base_hook import BaseHook
from updraft.sdk.baseoperator import BaseOperator

__all__ = ["BaseSQLOperator", "get_db_hook"]


def get_db_hook(conn_id: str, hook_params: dict[str, Any] | None = None) -> DbApiHook:
    """A SQL hook for connection ``conn_id``, of the class registered for its ``conn_type``."""
    connection = BaseHook.get_connection(conn_id)
    try:
        cls = hook_class(connection.conn_type)
    except HookNotFound as exc:
        raise HookNotFound(f"connection {conn_id!r}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, DbApiHook)):
        raise TypeError(
            f"connection {conn_id!r} is of type {connection.conn_type!r}, whose hook "
            f"{getattr(cls, '__name__', cls)} cannot run SQL (it is not a DbApiHook)"
        )
    arguments: dict[str, Any] = {cls.conn_name_attr: conn_id, **(hook_params or {})}
    hook = cls(**arguments)
    hook.connection = connection  # looked up already: not twice
    return hook


class BaseSQLOperator(BaseOperator):
    """Base of the SQL operators: ``conn_id`` picks the connection, ``database`` overrides its database.

    ``retry_on_failure=False`` makes a failed check fail the task at once, without its retries.
    """

    conn_id_field: ClassVar[str] = "conn_id"
    template_fields: ClassVar[Sequence[str]] = ("conn_id", "database", "hook_params")

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        database: str | None = None,
        hook_params: dict[str, Any] | None = None,
        retry_on_failure: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.database = database
        self.hook_params = hook_params or {}
        self.retry_on_failure = retry_on_failure
        self._hook: DbApiHook | None = None

    def get_db_hook(self) -> DbApiHook:
        """The hook for this task's connection (built once per task instance)."""
        if self._hook is not None:
            return self._hook
        conn_id = getattr(self, self.conn_id_field)
        if not conn_id:
            raise ValueError(f"{type(self).__name__} {self.task_id!r}: {self.conn_id_field} is not set")
        hook = get_db_hook(conn_id, self.hook_params)
        if self.database:
            if hasattr(hook, "database"):
                hook.database = self.database
            else:
                hook.schema = self.database
        self._hook = hook
        return hook

    def _fail(self, failures: list[str], total: int, sql: str | None = None) -> NoReturn:
        """Raise SQLCheckFailed listing each failed check (one line each)."""
        lines = [f"{type(self).__name__} {self.task_id!r}: {len(failures)} of {total} check(s) failed:"]
        lines += [f"  - {failure}" for failure in failures]
        if sql:
            lines.append(f"SQL: {sql.strip()}")
        error = SQLCheckFailed if self.retry_on_failure else SQLCheckFailedNoRetry
        raise error("\n".join(lines), failures)
