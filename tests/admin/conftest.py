"""Fixtures for the admin tests (pools, clear, pause/trigger/state/delete/next-execution).

``admin`` (an :class:`Admin`) depends on ``db_url``, so every test that uses it runs on SQLite and
on PostgreSQL. It writes DAG files to a temp DAG folder, stores them in the metadata DB as the DAG
processor would (:meth:`Admin.store`), makes runs with chosen task states without running anything
(:meth:`Admin.make_run`), reads rows back, and runs the ``updraft`` command in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, select, update

from updraft.core.dag_runs import create_dag_run, latest_serialized
from updraft.core.db.models import DagRun, TaskInstance
from updraft.core.runtime.dag_test import load_and_store, prepare_engine
from updraft.sdk.states import DagRunState, DagRunType

UPDRAFT = str(Path(sys.executable).with_name("updraft"))
UTC = timezone.utc
TI: Table = TaskInstance.__table__  # type: ignore[assignment]
RUN: Table = DagRun.__table__  # type: ignore[assignment]

#: extract >> transform >> [load, notify]; audit stands alone. Retries differ per task.
ETL_DAG = """
from datetime import datetime, timezone
from updraft import DAG, Param
from updraft.operators import EmptyOperator

with DAG("etl", start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), schedule="@daily", catchup=True,
         params={"n": Param(1, type="integer", minimum=0)}, default_args={"retries": 1}):
    extract = EmptyOperator(task_id="extract")
    transform = EmptyOperator(task_id="transform", retries=3, pool="etl_pool")
    load = EmptyOperator(task_id="load", retries=0)
    notify = EmptyOperator(task_id="notify")
    audit = EmptyOperator(task_id="audit")
    extract >> transform >> [load, notify]
"""


def at(day: int, month: int = 1, year: int = 2024, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


class Admin:
    """A DAG folder in a temp dir and helpers on the configured metadata DB."""

    def __init__(self, folder: Path, home: Path) -> None:
        self.folder = folder
        self.home = home
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = prepare_engine()
        return self._engine

    def write(self, source: str, name: str = "dag_file.py") -> Path:
        path = self.folder / name
        path.write_text(textwrap.dedent(source))
        return path

    def store(self, source: str | None = None, name: str = "dag_file.py") -> Engine:
        """Write ``source`` (if given), then parse the folder and store its DAGs."""
        if source is not None:
            self.write(source, name)
        load_and_store(self.engine, None, str(self.folder), include_examples=False)
        return self.engine

    def make_run(
        self,
        dag_id: str,
        logical_date: datetime,
        states: dict[str, str | None] | None = None,
        *,
        run_state: str = "success",
        tries: int = 1,
        run_id: str | None = None,
    ) -> str:
        """A scheduled run whose task instances have ``states`` (others: success) and ``tries``."""
        with self.engine.begin() as conn:
            serialized_id, dag = latest_serialized(conn, dag_id)
            _, new_run_id = create_dag_run(
                conn,
                dag,
                serialized_id,
                run_type=DagRunType.SCHEDULED,
                logical_date=logical_date,
                run_id=run_id,
                state=DagRunState.QUEUED,
            )
            conn.execute(
                update(RUN)
                .where(RUN.c.dag_id == dag_id, RUN.c.run_id == new_run_id)
                .values(state=run_state, start_date=logical_date, end_date=logical_date)
            )
            for task_id in dag.task_dict:
                state = (states or {}).get(task_id, "success")
                conn.execute(
                    update(TI)
                    .where(TI.c.dag_id == dag_id, TI.c.run_id == new_run_id, TI.c.task_id == task_id)
                    .values(state=state, try_number=tries if state is not None else 0)
                )
        return new_run_id

    def tis(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(TI).where(TI.c.dag_id == dag_id, TI.c.run_id == run_id)).mappings()
            return {row["task_id"]: dict(row) for row in rows}

    def states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {task_id: row["state"] for task_id, row in self.tis(dag_id, run_id).items()}

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(RUN).where(RUN.c.dag_id == dag_id, RUN.c.run_id == run_id)).mappings()
            return dict(row.one())

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``updraft ARGS`` in a subprocess with this test's environment."""
        return subprocess.run(
            [UPDRAFT, *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ),
        )


@pytest.fixture
def admin(
    db_url: str, updraft_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Admin]:
    """An :class:`Admin` on a fresh metadata DB (SQLite or PostgreSQL)."""
    folder = tmp_path / "dags"
    folder.mkdir()
    monkeypatch.setenv("UPDRAFT__CORE__DAGS_FOLDER", str(folder))
    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", "False")
    # A DAG file rewritten within one second at the same size must not be read from a stale .pyc.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    yield Admin(folder, updraft_home)
