"""Fixtures for the SQL provider tests: a database per test, reachable through a connection env var.

- ``pg_conn_id``: the PostgreSQL test server (``UPDRAFT_TEST_PG_URL``) with a private schema made for
  the test (its ``options`` extra puts it first on the search_path) and dropped afterwards;
- ``sqlite_conn_id``: a SQLite file in the test's temp dir;
- ``db``: each of the two in turn, with a hook for it, so one test checks both databases;
- ``sql_runs``: a DAG folder and a SQLite metadata DB, to run DAGs end to end with ``test_dag``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex

import pytest
from sqlalchemy import make_url

from tests.db_backends import PG_ADMIN_URL, pg_admin_connection
from tests.runs.conftest import Runs
from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.common.sql.operators.base import get_db_hook
from updraft.sdk import secrets
from updraft.sdk.connection import Connection

PG_CONN_ID = "pg_test"
SQLITE_CONN_ID = "lite_test"


def pg_connection(conn_id: str = PG_CONN_ID, **changes: object) -> Connection:
    """The test server as a Connection (``changes`` overrides fields)."""
    url = make_url(PG_ADMIN_URL)
    fields: dict[str, object] = {
        "conn_id": conn_id,
        "conn_type": "postgres",
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "login": url.username,
        "password": url.password,
        "schema": url.database,
    }
    fields.update(changes)
    return Connection(**fields)  # type: ignore[arg-type]


def set_connection(monkeypatch: pytest.MonkeyPatch, connection: Connection) -> str:
    """Define ``connection`` as the env var ``UPDRAFT_CONN_<ID>`` (its JSON form); return its id."""
    monkeypatch.setenv(f"UPDRAFT_CONN_{connection.conn_id.upper()}", json.dumps(connection.to_dict()))
    return connection.conn_id


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A new, empty schema on the PostgreSQL test server, dropped (with its tables) afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"sqltest_{worker}_{token_hex(4)}"
    with pg_admin_connection() as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with pg_admin_connection() as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def pg_conn_id(pg_schema: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A PostgreSQL connection whose unqualified tables live in the test's own schema."""
    extra = json.dumps({"options": f"-c search_path={pg_schema}"})
    return set_connection(monkeypatch, pg_connection(extra=extra))


@pytest.fixture
def sqlite_conn_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return set_connection(
        monkeypatch, Connection(SQLITE_CONN_ID, conn_type="sqlite", host=str(tmp_path / "test.db"))
    )


@dataclass
class Database:
    kind: str  # "sqlite" or "postgres"
    conn_id: str
    hook: DbApiHook

    def count(self, table: str) -> int:
        return int(self.hook.get_first(f"SELECT COUNT(*) FROM {table}")[0])

    def table_exists(self, table: str) -> bool:
        sql = (
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
            if self.kind == "sqlite"
            else "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = %s"
        )
        return bool(self.hook.get_first(sql, (table,))[0])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Database:
    """Each database in turn: the test runs once on SQLite and once on PostgreSQL."""
    conn_id = request.getfixturevalue("sqlite_conn_id" if request.param == "sqlite" else "pg_conn_id")
    return Database(request.param, conn_id, get_db_hook(conn_id))


@pytest.fixture
def sql_runs(updraft_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runs]:
    """Run DAG files with ``test_dag`` on a SQLite metadata DB (the database under test is elsewhere).

    ``test_dag`` installs a process-wide secrets chain on that DB; the one before is put back after.
    """
    folder = tmp_path / "dags"
    scratch = tmp_path / "scratch"
    folder.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{updraft_home / 'metadata.db'}")
    monkeypatch.setenv("UPDRAFT__CORE__DAGS_FOLDER", str(folder))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    chain = secrets.backends()
    yield Runs(folder, scratch, updraft_home)
    secrets.install_backends(chain)
