"""Helpers for the Airflow-compatibility suite: our own Airflow-style DAG files, run by Updraft.

The DAG files live in ``dags_airflow2/``, ``dags_airflow3/`` and ``dags_bad/``; they import only
``airflow...`` (never ``updraft``), as a user's unchanged DAG folder would. Tasks leave proof of what
they saw in ``$COMPAT_SCRATCH`` (a per-test folder). These tests run on SQLite only: the Airflow
import layer does not touch the database backend, which the rest of the suite covers on PostgreSQL.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.scheduler.conftest import env, scheduler  # noqa: F401  (fixtures reused here)
from updraft.core.db.engine import get_engine
from updraft.core.db.models import DagRun, XCom
from updraft.core.runtime.dag_test import RunResult, test_dag
from updraft.sdk import serde

HERE = Path(__file__).parent
DAGS2 = HERE / "dags_airflow2"
DAGS3 = HERE / "dags_airflow3"
BAD = HERE / "dags_bad"


@pytest.fixture
def db_url(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite metadata DB (overrides the SQLite + PostgreSQL ``db_url`` of the suite)."""
    url = f"sqlite:///{updraft_home / 'test.db'}"
    monkeypatch.setenv("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", url)
    return url


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setenv("COMPAT_SCRATCH", str(folder))
    return folder


class Compat:
    """Run a DAG of one of our folders with ``test_dag`` and read back what it left."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch

    def run(
        self, dag_id: str, folder: Path, logical_date: str = "2024-03-06", conf: dict[str, Any] | None = None
    ) -> RunResult:
        return test_dag(dag_id, logical_date, conf, dags_folder=str(folder), include_examples=False)

    @staticmethod
    def states(result: RunResult) -> dict[str, str]:
        return {
            (r.task_id if r.map_index < 0 else f"{r.task_id}[{r.map_index}]"): r.state.value
            for r in result.records
        }

    @staticmethod
    def xcom(dag_id: str, task_id: str, key: str = "return_value", run_id: str | None = None) -> Any:
        query = select(XCom.value).where(XCom.dag_id == dag_id, XCom.task_id == task_id, XCom.key == key)
        if run_id is not None:
            query = query.where(XCom.run_id == run_id)
        with get_engine().connect() as conn:
            text = conn.scalar(query)
        assert text is not None, f"no XCom {key!r} of {dag_id}.{task_id}"
        return serde.decode(text)

    @staticmethod
    def dag_runs(dag_id: str) -> list[Any]:
        with get_engine().connect() as conn:
            return list(conn.execute(select(DagRun).where(DagRun.dag_id == dag_id)).all())

    def proof(self, name: str) -> Any:
        """The JSON a task wrote to ``$COMPAT_SCRATCH/<name>.json``."""
        path = self.scratch / f"{name}.json"
        assert path.exists(), f"the task that writes {path.name} did not run"
        return json.loads(path.read_text())

    def text(self, name: str) -> str:
        path = self.scratch / name
        return path.read_text() if path.exists() else ""


@pytest.fixture
def compat(db_url: str, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Compat]:
    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", "False")
    # A DAG file must not be read from a .pyc written by another test with other settings.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    yield Compat(scratch)
