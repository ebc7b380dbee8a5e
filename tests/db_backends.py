"""Pytest fixtures for tests that need a private UPDRAFT_HOME or a metadata database.

A test that takes ``db_url``, ``engine`` or ``session`` runs twice: on a fresh SQLite file and on a
fresh PostgreSQL database created for it on ``UPDRAFT_TEST_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) and dropped afterwards. Without a reachable PostgreSQL
the postgres variant is skipped, or fails when ``CI=true``.

- ``updraft_home``: ``UPDRAFT_HOME`` in a temp dir, no ``UPDRAFT__*``/``AIRFLOW__*`` env vars, fresh
  config and engine caches.
- ``db_url``: URL of an empty database; also set as ``[database] sql_alchemy_conn``, so
  ``get_engine()`` without arguments reaches it.
- ``engine``: the engine of ``db_url``, migrated to the newest schema.
- ``session``: a session on ``engine``, rolled back and closed after the test.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from updraft.core.config import conf
from updraft.core.db.engine import dispose_engines, get_engine, session_factory
from updraft.core.db.migrate import ensure_schema

PG_ADMIN_URL = os.environ.get("UPDRAFT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", pytest.param("postgres", marks=pytest.mark.postgres))

_unreachable: dict[str, str] = {}  # admin URL -> why it could not be reached (asked once per process)


def pg_unavailable(admin_url: str, reason: str) -> NoReturn:
    """Skip the test, or fail it on CI, where PostgreSQL must be there."""
    where = make_url(admin_url)
    message = f"PostgreSQL at {where.host}:{where.port or 5432} is not reachable ({reason})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def pg_admin_connection(admin_url: str = PG_ADMIN_URL) -> psycopg.Connection:
    """An autocommit connection to the maintenance database, or skip/fail the test."""
    if admin_url in _unreachable:
        pg_unavailable(admin_url, _unreachable[admin_url])
    try:
        return psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unreachable[admin_url] = (str(exc).strip().splitlines() or [repr(exc)])[0]
        pg_unavailable(admin_url, _unreachable[admin_url])


@pytest.fixture
def updraft_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private, empty UPDRAFT_HOME; config from env vars of the outer shell is hidden."""
    home = tmp_path / "updraft_home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith(("UPDRAFT__", "AIRFLOW__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("UPDRAFT_HOME", str(home))
    conf.reload()
    dispose_engines()
    yield home
    dispose_engines()
    conf.reload()


def _unique_db_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"updraft_test_{worker}_{secrets.token_hex(4)}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    name = _unique_db_name()
    with pg_admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()  # FORCE would cut our pooled connections anyway; close them cleanly
        with pg_admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """URL of an empty database (SQLite file or PostgreSQL), also set as the configured one."""
    if request.param == "sqlite":
        url = f"sqlite:///{updraft_home / 'test.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", url)
    return url


@pytest.fixture
def engine(db_url: str) -> Engine:
    """The engine of ``db_url``, with the schema migrated to the newest revision."""
    engine = get_engine(db_url)
    ensure_schema(engine)
    return engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on ``engine``; whatever the test leaves uncommitted is rolled back."""
    session = session_factory(engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
