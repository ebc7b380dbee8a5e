"""``PostgresHook``: PostgreSQL through psycopg 3.

The connection gives host, port, login, password and the database (its ``schema`` field, or the
hook's ``database`` argument); its extra gives any libpq parameter (``sslmode``, ``sslrootcert``,
``application_name``, ``options``, ``connect_timeout``...) and ``cursor`` (``dictcursor`` or
``namedtuplecursor``) for the row type. Without a ``connect_timeout`` an unreachable host fails
after :data:`DEFAULT_CONNECT_TIMEOUT` seconds rather than the operating system's minutes.

Dict values (as rows' cells or query parameters) are sent as ``jsonb``. ``insert_rows`` streams
rows with ``COPY ... FROM STDIN`` (``replace=True`` upserts with
``INSERT ... ON CONFLICT`` in ``executemany`` batches); ``copy_expert``, ``bulk_load`` and
``bulk_dump`` move files with COPY.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from contextlib import closing
from typing import Any

from updraft.providers.common.sql.hooks.sql import DbApiHook

try:
    import psycopg
    from psycopg.rows import dict_row, namedtuple_row
    from psycopg.types.json import JsonbDumper
except ImportError as exc:  # psycopg is the optional ``postgres`` extra
    raise ImportError(f"PostgresHook needs psycopg 3: pip install 'updraft[postgres]' ({exc})") from exc

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "PostgresHook"]

#: Seconds to wait for a server to answer, unless the connection's extra sets ``connect_timeout``.
DEFAULT_CONNECT_TIMEOUT = 30
_COPY_CHUNK = 1 << 16
_FROM_STDIN = re.compile(r"\bfrom\s+stdin\b", re.IGNORECASE)
_TO_STDOUT = re.compile(r"\bto\s+stdout\b", re.IGNORECASE)
_ROW_FACTORIES = {"dictcursor": dict_row, "realdictcursor": dict_row, "namedtuplecursor": namedtuple_row}
_AUTH_FAILED = ("password authentication failed", "no password supplied", "authentication failed")
_UNREACHABLE = (
    "connection refused", "timeout expired", "could not translate host name", "no route to host",
    "network is unreachable", "connection timed out", "name or service not known",
)  # fmt: skip


@functools.cache
def _libpq_keywords() -> frozenset[str]:
    return frozenset(option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults())


class PostgresHook(DbApiHook):
    """Talk to PostgreSQL: ``PostgresHook(postgres_conn_id="warehouse", database="analytics")``."""

    conn_name_attr = "postgres_conn_id"
    default_conn_name = "postgres_default"
    conn_type = "postgres"
    hook_name = "Postgres"
    supports_autocommit = True
    supports_executemany = True
    placeholder = "%s"
    driver_errors = (psycopg.Error,)
    #: Extras that are not libpq parameters: read by the hook, or meant for other tools.
    ignored_extra_options = frozenset(
        {"cursor", "iam", "redshift", "redshift-serverless", "cluster-identifier", "workgroup-name",
         "aws_conn_id", "sqlalchemy_scheme", "sqlalchemy_query"}
    )  # fmt: skip

    def __init__(
        self,
        *args: Any,
        database: str | None = None,
        options: str | None = None,
        enable_log_db_messages: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.database = database
        self.options = options
        self.enable_log_db_messages = enable_log_db_messages

    # -- connecting --------------------------------------------------------------------------------

    @property
    def dbname(self) -> str | None:
        return self.database or self.schema or self.connection.schema

    def _conn_args(self) -> dict[str, Any]:
        conn = self.connection
        args: dict[str, Any] = {
            "host": conn.host,
            "port": conn.port,
            "user": conn.login,
            "password": conn.password,
            "dbname": self.dbname,
        }
        known = _libpq_keywords()
        for name, value in conn.extra_dejson.items():
            if name in self.ignored_extra_options:
                continue
            if name not in known:
                self.log.warning(
                    "connection %r: ignoring extra %r, not a libpq parameter", self.get_conn_id(), name
                )
                continue
            args[name] = value
        if self.options:
            args["options"] = f"{args['options']} {self.options}" if args.get("options") else self.options
        args.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
        return {name: value for name, value in args.items() if value is not None and value != ""}

    def get_conn(self) -> psycopg.Connection[Any]:
        """A new psycopg connection (the caller closes it)."""
        args = self._conn_args()
        cursor = self.connection.extra_dejson.get("cursor")
        if cursor:
            factory = _ROW_FACTORIES.get(str(cursor).lower())
            if factory is None:
                raise ValueError(
                    f"connection {self.get_conn_id()!r}: unknown cursor {cursor!r} in extra; "
                    f"use one of {', '.join(_ROW_FACTORIES)}"
                )
            conn: psycopg.Connection[Any] = psycopg.connect(**args, row_factory=factory)
        else:
            conn = psycopg.connect(**args)
        conn.adapters.register_dumper(dict, JsonbDumper)  # dict values and parameters go as jsonb
        if self.enable_log_db_messages:
            conn.add_notice_handler(
                lambda notice: self.log.info("%s", (notice.message_primary or "").strip())
            )
        return conn

    def get_uri(self) -> str:
        """The SQLAlchemy URL (``postgresql+psycopg://...``), with the password: do not log it."""
        from sqlalchemy.engine import URL  # only for the callers who ask for an engine

        conn = self.connection
        query = {k: str(v) for k, v in conn.extra_dejson.items() if k in _libpq_keywords()}
        url = URL.create(
            "postgresql+psycopg", conn.login, conn.password, conn.host, conn.port, self.dbname, query
        )
        return url.render_as_string(hide_password=False)

    def _target(self) -> str:
        conn = self.connection
        return (
            f"PostgreSQL at {conn.host or 'localhost'}:{conn.port or 5432}/{self.dbname or conn.login or ''}"
            f" as {conn.login or '(default user)'}"
        )

    def _connection_hint(self, message: str) -> str:
        lowered = message.lower()
        conn_id = self.get_conn_id()
        if any(text in lowered for text in _AUTH_FAILED):
            return f"Check the login and password of connection {conn_id!r}."
        if "database" in lowered and "does not exist" in lowered:
            return f"Check the database: the schema field of connection {conn_id!r} or the hook's database."
        if any(text in lowered for text in _UNREACHABLE):
            return (
                f"Check the host and port of connection {conn_id!r}, and that the server is running "
                "and reachable from this machine."
            )
        return ""

    def _driver_message(self, exc: BaseException) -> str:
        message = super()._driver_message(exc)
        diag = getattr(exc, "diag", None)
        if diag is not None:
            for label, text in (
                ("DETAIL", diag.message_detail),
                ("HINT", diag.message_hint),
                ("CONTEXT", diag.context),
            ):
                if text and text not in message:
                    message += f"\n{label}: {self._scrub(text.strip())}"
        return message

    # -- writing -----------------------------------------------------------------------------------

    def get_table_primary_key(self, table: str, schema: str | None = None) -> list[str] | None:
        """The primary key's columns of ``table`` (searched on the search_path unless ``schema``)."""
        rows = self.get_records(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
            (f"{schema}.{table}" if schema else table,),
        )
        return [_first(row) for row in rows] or None

    def _generate_insert_sql(
        self,
        table: str,
        values: Sequence[Any],
        target_fields: Sequence[str] | None,
        replace: bool,
        **kwargs: Any,
    ) -> str:
        sql = super()._generate_insert_sql(table, values, target_fields, False)
        if not replace:
            return sql
        if not target_fields:
            raise ValueError(
                f"insert_rows(replace=True) into {table}: PostgreSQL's upsert needs target_fields"
            )
        index = kwargs.get("replace_index") or self.get_table_primary_key(table)
        if not index:
            raise ValueError(
                f"insert_rows(replace=True) into {table}: give replace_index (the table has no primary key)"
            )
        keys = [index] if isinstance(index, str) else list(index)
        updates = [f"{field} = excluded.{field}" for field in target_fields if field not in keys]
        action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        return f"{sql} ON CONFLICT ({', '.join(keys)}) {action}"

    def insert_rows(
        self,
        table: str,
        rows: Iterable[Sequence[Any]],
        target_fields: Sequence[str] | None = None,
        commit_every: int = 1000,
        replace: bool = False,
        *,
        executemany: bool = True,
        fast_executemany: bool = False,
        autocommit: bool = False,
        **kwargs: Any,
    ) -> None:
        """Insert ``rows`` with one ``COPY ... FROM STDIN``, in one transaction.

        With ``replace=True``: ``INSERT ... ON CONFLICT (replace_index or the primary key) DO
        UPDATE`` in ``executemany`` batches of ``commit_every`` rows, still in one transaction.
        """
        if replace:
            super().insert_rows(
                table, rows, target_fields, commit_every, replace=True, autocommit=autocommit, **kwargs
            )
            return
        columns = f" ({', '.join(target_fields)})" if target_fields else ""
        statement = f"COPY {table}{columns} FROM STDIN"
        total = 0
        with self._transaction(autocommit) as conn, closing(conn.cursor()) as cur:
            try:
                with cur.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
                        total += 1
            except psycopg.Error as exc:
                raise self._execution_failed(
                    exc, f"Copying rows into {table}", statement, autocommit
                ) from exc
        self.log.info("Inserted %s rows into %s", total, table)

    def copy_expert(self, sql: str, filename: str) -> None:
        """Run a ``COPY ... FROM STDIN`` reading ``filename``, or a ``COPY ... TO STDOUT`` writing it."""
        loading = bool(_FROM_STDIN.search(sql))
        if not loading and not _TO_STDOUT.search(sql):
            raise ValueError(f"copy_expert runs COPY ... FROM STDIN or COPY ... TO STDOUT, not: {sql}")
        if loading and not os.path.isfile(filename):
            raise FileNotFoundError(f"copy_expert: {filename} does not exist (nothing to load for: {sql})")
        self.log.info("Running %s with file %s", sql, filename)
        with self._transaction() as conn, closing(conn.cursor()) as cur:
            try:
                with cur.copy(sql) as copy:
                    if loading:
                        with open(filename, "rb") as source:
                            while data := source.read(_COPY_CHUNK):
                                copy.write(data)
                    else:
                        with open(filename, "wb") as target:
                            for data in copy:
                                target.write(data)
            except psycopg.Error as exc:
                raise self._execution_failed(exc, "COPY", sql, False) from exc

    def bulk_load(self, table: str, tmp_file: str) -> None:
        """Load a tab-delimited file (COPY text format) into ``table``."""
        self.copy_expert(f"COPY {table} FROM STDIN", tmp_file)

    def bulk_dump(self, table: str, tmp_file: str) -> None:
        """Write ``table`` to a tab-delimited file (COPY text format)."""
        self.copy_expert(f"COPY {table} TO STDOUT", tmp_file)


def _first(row: Any) -> Any:
    return next(iter(row.values())) if isinstance(row, dict) else row[0]
