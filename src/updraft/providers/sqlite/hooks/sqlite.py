"""``SqliteHook``: SQLite files (and in-memory databases) through the standard ``sqlite3`` module.

As in Airflow, the connection's host is the file's path (``{"conn_type": "sqlite", "host":
"/data/app.db"}``; in URI form ``sqlite:///absolute/path`` or ``sqlite://relative/path``); an empty
host or ``:memory:`` is an in-memory database, which the hook keeps open for its lifetime so that
one ``run`` sees what the one before it wrote. Extras become SQLite URI parameters (``mode``,
``cache``, ``immutable``...), plus ``timeout`` (seconds to wait for a lock).

Transactions are explicit: ``run`` issues ``BEGIN`` itself, so DDL rolls back with the rest when a
statement fails (Python's ``sqlite3`` would otherwise commit DDL at once).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sqlite3
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from updraft.providers.common.sql.hooks.sql import DbApiHook

__all__ = ["SqliteHook"]

MEMORY = ":memory:"
#: Extras passed to SQLite as URI parameters (https://www.sqlite.org/uri.html).
URI_PARAMETERS = frozenset({"mode", "cache", "immutable", "nolock", "vfs", "psow", "modeof"})


class SqliteHook(DbApiHook):
    """Talk to SQLite: ``SqliteHook(sqlite_conn_id="local_db")``."""

    conn_name_attr = "sqlite_conn_id"
    default_conn_name = "sqlite_default"
    conn_type = "sqlite"
    hook_name = "Sqlite"
    placeholder = "?"
    supports_autocommit = True
    driver_errors = (sqlite3.Error,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memory_conn: sqlite3.Connection | None = None

    @property
    def database_path(self) -> str:
        """The file the connection names (``host``, and ``schema`` when a URI split the path), or ``:memory:``."""
        conn = self.connection
        host, schema = conn.host or "", conn.schema or ""
        path = f"{host}/{schema}" if schema else host
        return path or MEMORY

    def get_conn(self) -> sqlite3.Connection:
        path = self.database_path
        if path == MEMORY:
            if self._memory_conn is None:
                self._memory_conn = sqlite3.connect(MEMORY, check_same_thread=False)
            return self._memory_conn
        extra = self.connection.extra_dejson
        unknown = sorted(set(extra) - URI_PARAMETERS - {"timeout"})
        if unknown:
            self.log.warning(
                "connection %r: ignoring extra %s (not SQLite URI parameters)", self.get_conn_id(), unknown
            )
        query = urlencode({name: value for name, value in extra.items() if name in URI_PARAMETERS})
        uri = f"file:{quote(path)}" + (f"?{query}" if query else "")
        return sqlite3.connect(uri, uri=True, timeout=float(extra.get("timeout", 5.0)))

    def get_uri(self) -> str:
        path = self.database_path
        return "sqlite://" if path == MEMORY else f"sqlite:///{path}"

    def _target(self) -> str:
        return f"SQLite database {self.database_path}"

    def _release(self, conn: Any) -> None:
        if conn is not self._memory_conn:
            conn.close()

    def close(self) -> None:
        """Close the in-memory database this hook keeps (its contents are gone)."""
        if self._memory_conn is not None:
            self._memory_conn.close()
            self._memory_conn = None

    def set_autocommit(self, conn: Any, autocommit: bool) -> None:
        conn.isolation_level = None if autocommit else ""

    def get_autocommit(self, conn: Any) -> bool:
        return conn.isolation_level is None and not conn.in_transaction

    def _begin(self, conn: Any, autocommit: bool) -> None:
        conn.isolation_level = None  # the hook, not the sqlite3 module, decides where transactions are
        if not autocommit:
            conn.execute("BEGIN")

    def _connection_hint(self, message: str) -> str:
        return (
            f"Check the host (the file's path) of connection {self.get_conn_id()!r}: its folder must exist "
            "and be writable, or the file readable with mode=ro."
        )

    def _execution_hint(self, message: str) -> str:
        if "one statement at a time" in message:
            return "To run several statements from one string, pass split_statements=True."
        return ""

    @staticmethod
    def _serialize_cell(cell: Any, conn: Any = None) -> Any:
        """What ``sqlite3`` cannot bind as is: JSON for dicts and lists, ISO text for dates and times."""
        if isinstance(cell, (dict, list)):
            return json.dumps(cell)
        if isinstance(cell, dt.datetime):
            return cell.isoformat(" ")
        if isinstance(cell, (dt.date, dt.time)):
            return cell.isoformat()
        if isinstance(cell, (decimal.Decimal, uuid.UUID)):
            return str(cell)
        return cell
