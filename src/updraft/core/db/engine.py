"""Engines and sessions of the metadata database.

Owns how a database URL becomes a configured SQLAlchemy engine (one per URL per process):
SQLite gets WAL mode, foreign keys and a busy timeout; ``postgresql://`` uses psycopg 3. Engines are
made safe across ``os.fork``: a child process never reuses its parent's pooled connections.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from updraft.core.config import conf
from updraft.sdk.exceptions import UpdraftException

__all__ = [
    "UpdraftDbError",
    "create_session",
    "dispose_engines",
    "get_engine",
    "normalize_url",
    "session_factory",
]

_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=30000",  # first: switching to WAL may have to wait for another process
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class UpdraftDbError(UpdraftException):
    """The metadata database is misconfigured, unreachable or at an unknown schema version."""


def _mask(url: str) -> str:
    """The URL with any password replaced, safe to show in an error message."""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


def normalize_url(url: str) -> URL:
    """Parse ``url`` and pick updraft's driver: ``postgresql://`` and ``postgres://`` use psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UpdraftDbError(
            f"[database] sql_alchemy_conn is not a valid database URL: {_mask(url)!r} "
            "(expected e.g. sqlite:////path/updraft.db or postgresql://user@host/db)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _build_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {}
    backend = url.get_backend_name()
    if backend == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
        # SQLite connections are cheap to keep and dear to open (the pragmas run on each): keep
        # enough for a busy API server's thread pool instead of opening and closing overflow ones.
        kwargs["pool_size"] = 20
        kwargs["max_overflow"] = 20
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    elif backend == "postgresql":
        kwargs["pool_size"] = conf.getint("database", "sql_alchemy_pool_size")
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise UpdraftDbError(
            f"unsupported database {url.drivername!r} in {_mask(url.render_as_string())!r}: "
            "updraft supports sqlite:// and postgresql://"
        ) from None
    except ImportError as exc:
        if backend == "postgresql":
            raise UpdraftDbError("PostgreSQL needs psycopg: pip install 'updraft[postgres]'") from exc
        raise UpdraftDbError(f"the driver of {url.drivername!r} is not installed: {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The engine of ``url`` (default: ``[database] sql_alchemy_conn``), made once per process."""
    if url is None:
        url = conf.get("database", "sql_alchemy_conn")
    parsed = normalize_url(url)
    key = parsed.render_as_string(hide_password=False)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _build_engine(parsed)
        return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session maker bound to ``engine``; objects stay usable after their session commits."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def create_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises.

    ``engine`` defaults to :func:`get_engine` of the configured URL.
    """
    session = session_factory(engine if engine is not None else get_engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    """Close every pooled connection and forget all engines (tests, and before a process exits)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at fork time
    for engine in _engines.values():
        engine.dispose(close=False)  # leave the parent's connections alone; open new ones


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
