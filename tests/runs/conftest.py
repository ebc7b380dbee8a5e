"""Helpers for end-to-end run tests: write a DAG file, run it with ``test_dag``, read the DB back.

``runs`` (a :class:`Runs`) depends on ``db_url``, so every test that uses it runs on SQLite and on
PostgreSQL. Every DAG file starts with :data:`HEADER`: the usual imports, ``START``, ``ok`` and
``fail`` callables, and ``touch(name, text)``, which appends a line to a file in the test's scratch
folder (``TMP``) so that tasks and callbacks can leave proof that they ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from updraft.core.db.engine import get_engine
from updraft.core.db.models import DagRun, TaskInstance, TaskInstanceHistory, XCom
from updraft.core.runtime.dag_test import RunResult, test_dag
from updraft.core.runtime.local_run import RunProgress
from updraft.sdk import serde

LOGICAL_DATE = "2024-03-05T06:07:08+00:00"
RUN_ID = f"manual__{LOGICAL_DATE}"
#: Imports every DAG file in these tests starts with.
HEADER = """\
from datetime import date, datetime, timedelta, timezone
from updraft import DAG, Param, TriggerRule, task
from updraft.operators import (
    BashOperator, BranchPythonOperator, EmptyOperator, PythonOperator, ShortCircuitOperator,
)
from updraft.exceptions import UpdraftFailException, UpdraftSkipException

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
TMP = {tmp!r}


def touch(name, text=""):
    with open(f"{{TMP}}/{{name}}", "a") as f:
        f.write(text + "\\n")


def fail(**_):
    raise RuntimeError("boom")


def ok(**_):
    return None
"""


@dataclass
class TIRow:
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    max_tries: int
    rendered_fields: Any
    start_date: Any
    end_date: Any


class Runs:
    """A DAG folder in a temp dir, a scratch folder, and queries on the configured metadata DB."""

    def __init__(self, folder: Path, scratch: Path, home: Path) -> None:
        self.folder = folder
        self.scratch = scratch
        self.home = home

    @property
    def engine(self) -> Engine:
        return get_engine()

    @property
    def log_folder(self) -> Path:
        return self.home / "logs"

    # -- writing and running -------------------------------------------------------------------

    def write(self, body: str, name: str = "dag_file.py", *, prelude: str = "") -> Path:
        """Write a DAG file: ``HEADER``, ``prelude`` then ``body`` (each dedented)."""
        parts = [HEADER.format(tmp=str(self.scratch)), textwrap.dedent(prelude), textwrap.dedent(body)]
        source = "\n".join(parts)
        path = self.folder / name
        path.write_text(source)
        return path

    def run(
        self,
        dag_id: str,
        body: str | None = None,
        *,
        prelude: str = "",
        conf: dict[str, Any] | None = None,
        logical_date: str = LOGICAL_DATE,
        on_progress: Callable[[RunProgress], None] | None = None,
    ) -> RunResult:
        """Write ``body`` (if given) and run ``dag_id`` once with ``test_dag``."""
        if body is not None:
            self.write(body, prelude=prelude)
        return test_dag(dag_id, logical_date, conf, dags_folder=str(self.folder), on_progress=on_progress)

    def scratch_text(self, name: str) -> str:
        path = self.scratch / name
        return path.read_text() if path.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``updraft ARGS`` in a subprocess with this test's environment."""
        return subprocess.run(
            [sys.executable, "-m", "updraft.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ),
        )

    # -- reading the DB ------------------------------------------------------------------------

    def tis(self, dag_id: str, run_id: str = RUN_ID) -> dict[str, TIRow]:
        """Task instances by ``task_id`` (``task_id[i]`` for mapped instances)."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
                )
                .mappings()
                .all()
            )
        found = {}
        for row in rows:
            key = row["task_id"] if row["map_index"] < 0 else f"{row['task_id']}[{row['map_index']}]"
            found[key] = TIRow(
                row["task_id"],
                row["map_index"],
                row["state"],
                row["try_number"],
                row["max_tries"],
                row["rendered_fields"],
                row["start_date"],
                row["end_date"],
            )
        return found

    def states(self, dag_id: str, run_id: str = RUN_ID) -> dict[str, str | None]:
        return {key: row.state for key, row in self.tis(dag_id, run_id).items()}

    def history(
        self, dag_id: str, task_id: str, map_index: int = -1, run_id: str = RUN_ID
    ) -> list[dict[str, Any]]:
        """The task instance's try history, oldest try first."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(TaskInstanceHistory)
                    .where(
                        TaskInstanceHistory.dag_id == dag_id,
                        TaskInstanceHistory.run_id == run_id,
                        TaskInstanceHistory.task_id == task_id,
                        TaskInstanceHistory.map_index == map_index,
                    )
                    .order_by(TaskInstanceHistory.try_number)
                )
                .mappings()
                .all()
            )
        return [dict(row) for row in rows]

    def xcoms(self, dag_id: str, run_id: str = RUN_ID) -> dict[tuple[str, int, str], Any]:
        """Decoded XCom values by (task_id, map_index, key)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(XCom.task_id, XCom.map_index, XCom.key, XCom.value).where(
                    XCom.dag_id == dag_id, XCom.run_id == run_id
                )
            ).all()
        return {(t, m, k): serde.decode(v) for t, m, k, v in rows}

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(DagRun).where(DagRun.dag_id == dag_id)).mappings().all()
        return [dict(row) for row in rows]


@pytest.fixture
def runs(db_url: str, updraft_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runs]:
    """A :class:`Runs` on a fresh metadata DB (SQLite or PostgreSQL)."""
    folder = tmp_path / "dags"
    scratch = tmp_path / "scratch"
    folder.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("UPDRAFT__CORE__DAGS_FOLDER", str(folder))
    # A DAG file rewritten within one second at the same size must not be read from a stale .pyc.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    yield Runs(folder, scratch, updraft_home)
