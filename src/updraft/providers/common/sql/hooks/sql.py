"""``DbApiHook``: the base of hooks for databases reached through a DB-API 2 driver.

A subclass names its connection-id argument and default, as in Airflow
(``conn_name_attr = "postgres_conn_id"``, ``default_conn_name = "postgres_default"``), sets
``driver_errors`` to its driver's exception base and implements ``get_conn()``. Then:

- ``run(sql, ...)`` runs one statement, a list of them, or a string split into statements, on one
  connection and in ONE transaction: all are committed at the end, or none when one fails. The
  raised :class:`SQLExecutionError` names the connection and the statement, never the password.
  With ``autocommit=True`` each statement is committed as it runs.
- ``get_records`` / ``get_first`` / ``get_df`` read; ``insert_rows`` writes with ``executemany`` in
  batches, also in one transaction; ``bulk_load`` / ``bulk_dump`` move a tab-delimited file in
  PostgreSQL's COPY text format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from datetime import date, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from updraft.providers.common.sql.exceptions import SQLConnectionError, SQLExecutionError
from updraft.providers.common.sql.hooks.handlers import (
    fetch_all_handler,
    fetch_one_handler,
    return_single_query_results,
)
from updraft.providers.common.sql.splitting import split_sql_string
from updraft.sdk.base_hook import BaseHook
from updraft.sdk.connection import Connection
from updraft.sdk.exceptions import UpdraftException

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["DbApiHook", "decode_copy_line", "encode_copy_row"]

Parameters = Iterable[Any] | Mapping[str, Any] | None

#: How much of a failed statement an error message quotes.
STATEMENT_PREVIEW_CHARS = 500


class DbApiHook(BaseHook):
    """Run SQL through a DB-API 2 connection; see the module docstring."""

    conn_name_attr: str = ""
    default_conn_name: str = "default_conn_id"
    #: The connection can be switched to autocommit (``set_autocommit``).
    supports_autocommit: bool = False
    supports_executemany: bool = True
    #: The driver's parameter marker, used by the generated INSERT statements.
    placeholder: str = "%s"
    strip_semicolon: bool = False
    #: The driver's exception base class(es): these are reported with the connection id.
    driver_errors: tuple[type[BaseException], ...] = (Exception,)
    _test_connection_sql = "SELECT 1"

    def __init__(
        self,
        *args: Any,
        schema: str | None = None,
        log_sql: bool = True,
        logger_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(logger_name)
        name = type(self).__name__
        if not self.conn_name_attr:
            raise TypeError(f"{name} must set conn_name_attr (e.g. 'postgres_conn_id') to be used as a hook")
        if len(args) > 1 or (args and self.conn_name_attr in kwargs):
            raise TypeError(
                f"{name} takes one connection id, as the first argument or {self.conn_name_attr}="
            )
        conn_id = args[0] if args else kwargs.pop(self.conn_name_attr, self.default_conn_name)
        if kwargs:
            raise TypeError(f"{name} got unexpected argument(s): {', '.join(sorted(kwargs))}")
        setattr(self, self.conn_name_attr, conn_id)
        self.schema = schema
        self.log_sql = log_sql
        #: The cursor description of each statement of the last ``run`` that had a handler.
        self.descriptions: list[Sequence[Sequence[Any]] | None] = []
        self._connection: Connection | None = None

    # -- the connection ---------------------------------------------------------------------------

    def get_conn_id(self) -> str:
        return str(getattr(self, self.conn_name_attr))

    @property
    def connection(self) -> Connection:
        """The connection's fields, looked up once through the secrets chain."""
        if self._connection is None:
            self._connection = self.get_connection(self.get_conn_id())
        return self._connection

    @connection.setter
    def connection(self, value: Connection) -> None:
        self._connection = value

    def get_cursor(self) -> Any:
        return self.get_conn().cursor()

    def get_uri(self) -> str:
        """The SQLAlchemy URL of the database (with the password: do not log it)."""
        raise NotImplementedError(f"{type(self).__name__} does not give a SQLAlchemy URL")

    def get_sqlalchemy_engine(self, engine_kwargs: dict[str, Any] | None = None) -> Engine:
        import sqlalchemy  # a core dependency, imported only by the few hooks' users who ask for it

        return sqlalchemy.create_engine(self.get_uri(), **(engine_kwargs or {}))

    def set_autocommit(self, conn: Any, autocommit: bool) -> None:
        if autocommit and not self.supports_autocommit:
            self.log.warning("connection %r does not support autocommit", self.get_conn_id())
        conn.autocommit = autocommit

    def get_autocommit(self, conn: Any) -> bool:
        return bool(getattr(conn, "autocommit", False)) and self.supports_autocommit

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.get_first(self._test_connection_sql)
        except Exception as exc:  # noqa: BLE001 - the answer is the message, whatever went wrong
            return False, str(exc)
        return True, "Connection successfully tested"

    # -- what subclasses may adapt -----------------------------------------------------------------

    def _begin(self, conn: Any, autocommit: bool) -> None:
        """Prepare a fresh connection for one unit of work (PEP 249 drivers begin transactions themselves)."""
        if self.supports_autocommit:
            self.set_autocommit(conn, autocommit)

    def _release(self, conn: Any) -> None:
        """Done with a connection from ``get_conn()`` (a hook that keeps one open overrides this)."""
        conn.close()

    def _target(self) -> str:
        """What the connection reaches, for error messages (never the password)."""
        return type(self).__name__.removesuffix("Hook") or "the database"

    def _connection_hint(self, message: str) -> str:
        """A sentence telling the user what to check, given the driver's connection error."""
        return ""

    def _execution_hint(self, message: str) -> str:
        return ""

    def _make_common_data_structure(self, result: Any) -> Any:
        """Turn what a handler returned into plain rows; drivers that return odd row types override it."""
        return result

    @staticmethod
    def _serialize_cell(cell: Any, conn: Any = None) -> Any:
        """One value of a row passed to ``insert_rows``, as the driver should bind it."""
        return cell

    @classmethod
    def _serialize_cells(cls, row: Iterable[Any], conn: Any = None) -> tuple[Any, ...]:
        return tuple(cls._serialize_cell(cell, conn) for cell in row)

    # -- errors ------------------------------------------------------------------------------------

    def _wraps(self, exc: BaseException) -> bool:
        return isinstance(exc, self.driver_errors) and not isinstance(exc, UpdraftException)

    def _scrub(self, text: str) -> str:
        """``text`` without the connection's password (error texts never hold it; this makes sure)."""
        password = self._connection.password if self._connection is not None else None
        if password and len(password) >= 3:
            for form in {password, quote(password, safe="")}:
                text = text.replace(form, "***")
        return text

    def _driver_message(self, exc: BaseException) -> str:
        kind = type(exc)
        text = str(exc).strip() or kind.__name__
        return self._scrub(f"{kind.__module__}.{kind.__qualname__}: {text}")

    def _connection_failed(self, exc: BaseException) -> SQLConnectionError:
        message = self._driver_message(exc)
        hint = self._connection_hint(message)
        return SQLConnectionError(
            f"cannot connect to {self._target()} (connection {self.get_conn_id()!r}): {message}"
            + (f"\n{hint}" if hint else ""),
            conn_id=self.get_conn_id(),
            orig=exc,
        )

    def _execution_failed(
        self, exc: BaseException, what: str, statement: str | None, autocommit: bool
    ) -> SQLExecutionError:
        message = self._driver_message(exc)
        lines = [f"{what} failed on connection {self.get_conn_id()!r}: {message}"]
        if statement is not None:
            preview = statement.strip()
            if len(preview) > STATEMENT_PREVIEW_CHARS:
                preview = preview[:STATEMENT_PREVIEW_CHARS] + " ..."
            lines.append(f"SQL: {self._scrub(preview)}")
        lines.append(
            "Statements that ran before it were already committed (autocommit=True)."
            if autocommit
            else "The transaction was rolled back: nothing it wrote was kept."
        )
        hint = self._execution_hint(message)
        if hint:
            lines.append(hint)
        return SQLExecutionError("\n".join(lines), conn_id=self.get_conn_id(), orig=exc, statement=statement)

    # -- units of work -----------------------------------------------------------------------------

    def _connect(self) -> Any:
        try:
            return self.get_conn()
        except Exception as exc:
            if not self._wraps(exc):
                raise
            raise self._connection_failed(exc) from None

    @contextmanager
    def _transaction(self, autocommit: bool = False) -> Iterator[Any]:
        """A connection inside one transaction: committed when the block ends, rolled back if it raises."""
        conn = self._connect()
        try:
            try:
                self._begin(conn, autocommit)
                yield conn
                if not autocommit:
                    conn.commit()
            except BaseException as exc:
                self._rollback_quietly(conn)
                if isinstance(exc, Exception) and self._wraps(exc):
                    raise self._execution_failed(exc, "The transaction", None, autocommit) from exc
                raise
        finally:
            self._release(conn)

    def _rollback_quietly(self, conn: Any) -> None:
        try:
            conn.rollback()
        except Exception as exc:  # noqa: BLE001 - a broken connection cannot roll back; it is closed next
            self.log.debug("rollback on connection %r failed: %s", self.get_conn_id(), exc)

    def _statements(self, sql: str | Iterable[str], split_statements: bool) -> list[str]:
        if isinstance(sql, str):
            if split_statements:
                statements = split_sql_string(sql, strip_semicolon=self.strip_semicolon)
            else:
                statements = [sql] if sql.strip() else []
        else:
            statements = list(sql)
            for item in statements:
                if not isinstance(item, str):
                    raise TypeError(f"SQL statements must be strings, got {type(item).__name__}: {item!r}")
        if not statements:
            raise ValueError(
                f"no SQL to run on connection {self.get_conn_id()!r}: the statement list is empty"
            )
        return statements

    def _run_command(self, cur: Any, sql_statement: str, parameters: Parameters) -> None:
        """Execute one statement on an open cursor."""
        if self.log_sql:
            self.log.info(
                "Running statement: %s%s", sql_statement, " (with parameters)" if parameters else ""
            )
        if parameters:
            cur.execute(sql_statement, parameters)
        else:
            cur.execute(sql_statement)
        if getattr(cur, "rowcount", -1) >= 0:
            self.log.info("Rows affected: %s", cur.rowcount)

    # -- running SQL -------------------------------------------------------------------------------

    def run(
        self,
        sql: str | Iterable[str],
        autocommit: bool = False,
        parameters: Parameters = None,
        handler: Callable[[Any], Any] | None = None,
        split_statements: bool = False,
        return_last: bool = True,
    ) -> Any:
        """Run ``sql`` (a statement, a list, or with ``split_statements`` a string of several).

        Without a ``handler`` nothing is returned. With one (e.g. ``fetch_all_handler``), the
        handler's result for the statement, or a list with one result per statement when ``sql``
        is a list or a string split with ``return_last=False``. ``self.descriptions`` then holds
        the cursor description of each returned result.
        """
        statements = self._statements(sql, split_statements)
        results: list[Any] = []
        descriptions: list[Any] = []
        with self._transaction(autocommit) as conn, closing(conn.cursor()) as cur:
            for index, statement in enumerate(statements):
                try:
                    self._run_command(cur, statement, parameters)
                except Exception as exc:
                    if not self._wraps(exc):
                        raise
                    what = f"Statement {index + 1} of {len(statements)}" if len(statements) > 1 else "SQL"
                    raise self._execution_failed(exc, what, statement, autocommit) from exc
                if handler is not None:
                    results.append(self._make_common_data_structure(handler(cur)))
                    descriptions.append(cur.description)
        if handler is None:
            self.descriptions = []
            return None
        if return_single_query_results(sql, return_last, split_statements):
            self.descriptions = descriptions[-1:]
            return results[-1]
        self.descriptions = descriptions
        return results

    @property
    def last_description(self) -> Sequence[Sequence[Any]] | None:
        return self.descriptions[-1] if self.descriptions else None

    def get_records(self, sql: str | Iterable[str], parameters: Parameters = None) -> Any:
        """Every row of ``sql`` (a list of rows; for a list of statements, one list per statement)."""
        return self.run(sql=sql, parameters=parameters, handler=fetch_all_handler)

    def get_first(self, sql: str | Iterable[str], parameters: Parameters = None) -> Any:
        """The first row of ``sql``, or None when it returns none."""
        return self.run(sql=sql, parameters=parameters, handler=fetch_one_handler)

    def get_df(self, sql: str | Iterable[str], parameters: Parameters = None, **kwargs: Any) -> Any:
        """The rows of ``sql`` (of its last statement, for a list) as a pandas DataFrame.

        ``kwargs`` go to ``pandas.DataFrame.from_records`` (``index``, ``coerce_float``...).
        """
        try:
            import pandas  # optional: only this method needs it
        except ImportError:
            raise ImportError(
                f"{type(self).__name__}.get_df needs pandas, which is not installed: pip install pandas"
            ) from None
        result = self.run(sql=sql, parameters=parameters, handler=fetch_all_handler)
        rows = result if isinstance(sql, str) else result[-1]
        description = self.last_description
        columns = [column[0] for column in description] if description else None
        return pandas.DataFrame.from_records(list(rows or []), columns=columns, **kwargs)

    # -- writing rows ------------------------------------------------------------------------------

    def _generate_insert_sql(
        self,
        table: str,
        values: Sequence[Any],
        target_fields: Sequence[str] | None,
        replace: bool,
        **kwargs: Any,
    ) -> str:
        columns = f" ({', '.join(target_fields)})" if target_fields else ""
        markers = ", ".join([self.placeholder] * len(values))
        verb = "REPLACE INTO" if replace else "INSERT INTO"
        return f"{verb} {table}{columns} VALUES ({markers})"

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
        """Insert ``rows`` (sequences of values) into ``table``, ``commit_every`` rows per ``executemany``.

        Unlike Airflow, which commits after every batch, all batches go in one transaction: when
        a row is refused, the table is left as it was. ``commit_every=0`` sends all rows in one
        batch. ``replace=True`` overwrites rows with the same key (``REPLACE INTO`` by default).
        """
        if commit_every < 0:
            raise ValueError(
                f"commit_every must be 0 (one batch) or a positive number of rows, not {commit_every}"
            )
        total = 0
        serializing = type(self)._serialize_cell is not DbApiHook._serialize_cell
        with self._transaction(autocommit) as conn, closing(conn.cursor()) as cur:
            sql = ""
            for batch in _batches(rows, commit_every or None):
                values = [self._serialize_cells(row, conn) for row in batch] if serializing else batch
                if not sql:
                    sql = self._generate_insert_sql(table, values[0], target_fields, replace, **kwargs)
                try:
                    cur.executemany(sql, values)
                except Exception as exc:
                    if not self._wraps(exc):
                        raise
                    what = f"Inserting rows {total + 1} to {total + len(values)} into {table}"
                    raise self._execution_failed(exc, what, sql, autocommit) from exc
                total += len(values)
                self.log.info("Sent %s rows for %s so far", total, table)
        self.log.info("Inserted %s rows into %s", total, table)

    def bulk_load(self, table: str, tmp_file: str) -> None:
        """Load a tab-delimited file (COPY text format: ``\\N`` is NULL, backslash escapes) into ``table``."""
        with open(tmp_file, encoding="utf-8") as source:
            rows = (decode_copy_line(line) for line in source if line.rstrip("\n") != "\\.")
            self.insert_rows(table, rows)

    def bulk_dump(self, table: str, tmp_file: str) -> None:
        """Write every row of ``table`` to a tab-delimited file in COPY text format."""
        with (
            self._transaction() as conn,
            closing(conn.cursor()) as cur,
            open(tmp_file, "w", encoding="utf-8") as out,
        ):
            self._run_command(cur, f"SELECT * FROM {table}", None)
            while batch := cur.fetchmany(1000):
                out.writelines(encode_copy_row(row) for row in batch)


def _batches(rows: Iterable[Any], size: int | None) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
        if size is None:
            return


# -- PostgreSQL's COPY text format -----------------------------------------------------------------

_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.DOTALL)
_NEEDS_ESCAPE = re.compile(r"[\\\n\r\t]")
_ESCAPED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _unescape(match: re.Match[str]) -> str:
    octal, hexa, char = match.groups()
    if octal:
        return chr(int(octal, 8))
    if hexa:
        return chr(int(hexa, 16))
    return _ESCAPES.get(char, char)


def decode_copy_line(line: str) -> tuple[str | None, ...]:
    """One line of COPY text format as a row of strings (None for ``\\N``)."""
    fields = line.rstrip("\n").split("\t")
    return tuple(None if field == "\\N" else _ESCAPE.sub(_unescape, field) for field in fields)


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(value).hex()
    if isinstance(value, datetime):
        text = value.isoformat(" ")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return _NEEDS_ESCAPE.sub(lambda m: _ESCAPED[m.group()], text)


def encode_copy_row(row: Iterable[Any]) -> str:
    """A row as one line of COPY text format."""
    return "\t".join(_copy_text(value) for value in row) + "\n"
