"""Schema migrations of the metadata database, driven by Alembic without an ``alembic.ini``.

:func:`ensure_schema` is what a process calls before using the database. Its fast path reads
``alembic_version`` with plain SQL and returns at once when the schema is current, without importing
Alembic (which costs ~100 ms of start-up). Migrating runs inside one transaction that holds a lock
(``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so processes that start
together migrate once and the others wait, then find the schema current.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from updraft.core.db.engine import UpdraftDbError

__all__ = ["HEAD_REVISION", "MIGRATIONS_DIR", "current_revision", "ensure_schema", "migrate", "reset"]

#: The newest revision in ``migrations/versions``; a test checks it matches Alembic's head.
HEAD_REVISION = "0005"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 7_316_037_611_235_003_001  # any fixed bigint; identifies "updraft migrates" locks


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, or None if it was never migrated."""
    with engine.connect() as conn:
        try:
            return conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
        except DBAPIError:
            conn.rollback()
            if inspect(conn).has_table(VERSION_TABLE):
                raise
            return None


def ensure_schema(engine: Engine) -> None:
    """Bring the schema to :data:`HEAD_REVISION`; cheap when it is already there."""
    if current_revision(engine) == HEAD_REVISION:
        return
    migrate(engine)


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (a no-op when it is current)."""
    with _locked_transaction(engine) as conn:
        _upgrade(conn)


def reset(engine: Engine) -> None:
    """Drop every updraft table and the recorded revision, then migrate: an empty, current DB."""
    # Imported here, not at the top, so that ensure_schema's fast path does not load the ORM.
    from updraft.core.db.models import Base

    with _locked_transaction(engine) as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {VERSION_TABLE}")
    migrate(engine)


@contextmanager
def _locked_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the migration lock; commits on success."""
    with engine.connect() as conn:
        backend = engine.dialect.name
        if backend == "sqlite":
            with _sqlite_manual_transactions(conn):
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # takes the write lock, waits busy_timeout
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            return
        with conn.begin():
            if backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            yield conn


@contextmanager
def _sqlite_manual_transactions(conn: Connection) -> Iterator[None]:
    """Stop the sqlite3 driver from opening and committing transactions on its own.

    By default it runs DDL outside any transaction; with ``isolation_level = None`` our explicit
    ``BEGIN IMMEDIATE`` ... ``COMMIT`` wraps the whole migration, which SQLite can then roll back.
    """
    dbapi_conn: Any = conn.connection.dbapi_connection
    saved = dbapi_conn.isolation_level
    dbapi_conn.isolation_level = None
    try:
        yield
    finally:
        dbapi_conn.isolation_level = saved


def _upgrade(conn: Connection) -> None:
    # Alembic is imported only when a migration is due: it is the cost ensure_schema's fast path avoids.
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = conn
    try:
        command.upgrade(config, "head")
    except CommandError as exc:
        raise UpdraftDbError(
            f"cannot migrate the metadata database: {exc} (a newer updraft may have migrated it; "
            f"this one knows revisions up to {HEAD_REVISION})"
        ) from exc
