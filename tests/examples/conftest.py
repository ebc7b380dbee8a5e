"""Fixtures for running the bundled example DAGs end to end with ``test_dag``.

- ``run_example``: runs one example (``include_examples``) on a SQLite metadata DB in a private
  ``UPDRAFT_HOME``, with an empty user DAG folder; returns the :class:`RunResult`.
- ``etl_db``: the database behind ``example_etl_db``, in turn the SQLite fallback (no connection
  defined: ``$UPDRAFT_HOME/example_etl.db``) and the PostgreSQL test server (a private schema put
  first on the search_path, reached through ``UPDRAFT_CONN_EXAMPLE_ETL_DB``; skipped when the server
  is not reachable, a failure under ``CI=true``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.providers.smtp.conftest import smtp_server  # noqa: F401 - a fixture used by these tests
from tests.providers.sql.conftest import pg_connection, pg_schema, set_connection  # noqa: F401
from updraft.core.db.engine import get_engine
from updraft.core.db.models import XCom
from updraft.core.runtime.dag_test import RunResult, test_dag
from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.common.sql.operators.base import get_db_hook
from updraft.providers.sqlite import SqliteHook
from updraft.sdk import serde
from updraft.sdk.connection import Connection

ETL_CONN_ID = "example_etl_db"


@dataclass
class EtlDb:
    kind: str  # "sqlite" (the fallback file) or "postgres"
    home: Path

    @property
    def hook(self) -> DbApiHook:
        if self.kind == "postgres":
            return get_db_hook(ETL_CONN_ID)
        hook = SqliteHook(sqlite_conn_id="fallback")
        hook.connection = Connection("fallback", conn_type="sqlite", host=str(self.home / "example_etl.db"))
        return hook

    def records(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.hook.get_records(sql)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def etl_db(request: pytest.FixtureRequest, updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> EtlDb:
    monkeypatch.delenv(f"UPDRAFT_CONN_{ETL_CONN_ID.upper()}", raising=False)
    monkeypatch.delenv(f"AIRFLOW_CONN_{ETL_CONN_ID.upper()}", raising=False)
    if request.param == "postgres":
        schema = request.getfixturevalue("pg_schema")
        extra = json.dumps({"options": f"-c search_path={schema}"})
        set_connection(monkeypatch, pg_connection(ETL_CONN_ID, extra=extra))
    return EtlDb(request.param, updraft_home)


RunExample = Callable[..., RunResult]


@pytest.fixture
def run_example(updraft_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunExample:
    folder = tmp_path / "no_user_dags"
    folder.mkdir()
    monkeypatch.setenv("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{updraft_home / 'metadata.db'}")
    for name in ("SMTP_DEFAULT", "SLACK_ALERTS", "EXAMPLE_SOURCE_API"):
        monkeypatch.delenv(f"UPDRAFT_CONN_{name}", raising=False)
        monkeypatch.delenv(f"AIRFLOW_CONN_{name}", raising=False)

    def run(dag_id: str, day: str, conf: dict[str, Any] | None = None) -> RunResult:
        return test_dag(dag_id, day, conf, dags_folder=str(folder), include_examples=True)

    return run


def states(result: RunResult) -> dict[str, str]:
    return {r.task_id: r.state.value if r.state else "none" for r in result.records}


def errors(result: RunResult) -> dict[str, str]:
    return {r.task_id: r.error for r in result.records if r.error}


def xcom(result: RunResult, task_id: str, key: str = "return_value") -> Any:
    with get_engine().connect() as conn:
        text = conn.scalar(
            select(XCom.value).where(
                XCom.dag_id == result.dag_id,
                XCom.run_id == result.run_id,
                XCom.task_id == task_id,
                XCom.key == key,
            )
        )
    return None if text is None else serde.decode(text)
