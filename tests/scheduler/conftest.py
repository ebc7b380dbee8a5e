"""Helpers to run the real scheduler as a process against a test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from updraft.core.dag_runs import create_dag_run, latest_serialized
from updraft.core.db.engine import get_engine
from updraft.core.db.models import DagModel, DagRun, TaskInstance
from updraft.core.runtime.dag_test import load_and_store, prepare_engine
from updraft.core.sdk_settings import configure_sdk
from updraft.sdk.states import DagRunType

UPDRAFT = str(Path(sys.executable).with_name("updraft"))


def wait_for(
    predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


class SchedulerProcess:
    """``updraft scheduler --skip-dag-processor`` as a child process, its output in a file."""

    def __init__(
        self, home: Path, extra_env: dict[str, str] | None = None, with_processor: bool = False
    ) -> None:
        self.home = home
        self.with_processor = with_processor
        self.env = {**os.environ, "UPDRAFT__SCHEDULER__IDLE_POLL_INTERVAL": "0.2", **(extra_env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = home / f"scheduler-{time.monotonic_ns()}.log"

    def start(self) -> SchedulerProcess:
        self.handle = open(self.log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [UPDRAFT, "scheduler", *([] if self.with_processor else ["--skip-dag-processor"])],
            env=self.env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self.handle.close()
        return code


class Env:
    """The test's DAG folder and database, with the operations a user performs."""

    def __init__(self, home: Path, dags: Path) -> None:
        self.home = home
        self.dags = dags
        self.engine = prepare_engine()

    def write_dag(self, name: str, text: str) -> Path:
        path = self.dags / name
        path.write_text(textwrap.dedent(text))
        return path

    def store(self) -> None:
        configure_sdk()  # as a freshly started DAG processor would, with the current environment
        bag, _ = load_and_store(self.engine, None, str(self.dags), include_examples=False)
        assert not bag.import_errors, bag.import_errors

    def unpause(self, dag_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=False))

    def trigger(
        self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: datetime | None = None
    ) -> str:
        with self.engine.begin() as conn:
            serialized_id, dag = latest_serialized(conn, dag_id)
            _, run_id = create_dag_run(
                conn,
                dag,
                serialized_id,
                run_type=DagRunType.MANUAL,
                logical_date=logical_date or datetime.now(timezone.utc),
                conf=conf,
                triggered_by="test",
            )
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        with get_engine().connect() as conn:
            return conn.scalar(select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 60.0) -> str:
        return wait_for(
            lambda: (s := self.run_state(dag_id, run_id)) in ("success", "failed") and s,
            timeout,
            what=f"run {run_id} of {dag_id} to finish",
        )

    def tis(self, dag_id: str, run_id: str | None = None) -> list[Any]:
        query = select(TaskInstance).where(TaskInstance.dag_id == dag_id)
        if run_id is not None:
            query = query.where(TaskInstance.run_id == run_id)
        with get_engine().connect() as conn:
            return list(conn.execute(query.order_by(TaskInstance.task_id, TaskInstance.map_index)).all())

    def runs(self, dag_id: str) -> list[Any]:
        with get_engine().connect() as conn:
            return list(
                conn.execute(
                    select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.logical_date)
                ).all()
            )


@pytest.fixture
def env(db_url: str, updraft_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    dags = tmp_path / "dags"
    dags.mkdir()
    monkeypatch.setenv("UPDRAFT__CORE__DAGS_FOLDER", str(dags))
    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", "False")
    yield Env(updraft_home, dags)


@pytest.fixture
def scheduler(env: Env) -> Iterator[Callable[..., SchedulerProcess]]:
    started: list[SchedulerProcess] = []

    def start(with_processor: bool = False, **extra_env: str) -> SchedulerProcess:
        process = SchedulerProcess(
            env.home, {k.upper(): v for k, v in extra_env.items()}, with_processor
        ).start()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc is not None and process.proc.poll() is None:
            process.stop(signal.SIGKILL)
