"""The errors SQL hooks and check operators raise.

::

    UpdraftException
    +-- SQLHookError               a database call through a DbApiHook failed
    |   +-- SQLConnectionError     could not connect (unreachable host, wrong password, no such database)
    |   +-- SQLExecutionError      a statement failed; its transaction was rolled back
    +-- SQLCheckFailed             a data-quality check failed; ``failures`` lists each failed check
        +-- SQLCheckFailedNoRetry  the same, from an operator with ``retry_on_failure=False``

Every message names the connection id and never holds the connection's password. The driver's own
exception (``psycopg.Error``, ``sqlite3.Error``...) is kept as ``orig``, as SQLAlchemy does.
"""

from __future__ import annotations

from updraft.sdk.exceptions import UpdraftException, UpdraftFailException

__all__ = [
    "SQLCheckFailed",
    "SQLCheckFailedNoRetry",
    "SQLConnectionError",
    "SQLExecutionError",
    "SQLHookError",
]


class SQLHookError(UpdraftException):
    """A database call failed; ``conn_id`` names the connection, ``orig`` is the driver's error."""

    def __init__(self, message: str, *, conn_id: str, orig: BaseException | None = None) -> None:
        super().__init__(message)
        self.conn_id = conn_id
        self.orig = orig


class SQLConnectionError(SQLHookError):
    """The hook could not open a connection to the database."""


class SQLExecutionError(SQLHookError):
    """A statement (or the commit) failed; what the transaction had written was rolled back."""

    def __init__(
        self, message: str, *, conn_id: str, orig: BaseException | None = None, statement: str | None = None
    ) -> None:
        super().__init__(message, conn_id=conn_id, orig=orig)
        self.statement = statement


class SQLCheckFailed(UpdraftException):
    """A data-quality check did not pass; ``failures`` has one line per failed check."""

    def __init__(self, message: str, failures: list[str]) -> None:
        super().__init__(message)
        self.failures = failures


class SQLCheckFailedNoRetry(SQLCheckFailed, UpdraftFailException):
    """A failed check from an operator with ``retry_on_failure=False``: the task fails without retrying."""
