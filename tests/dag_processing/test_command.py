"""``updraft dag-processor`` as a user runs it, and the processor process the scheduler starts."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from updraft.core.dag_processing import start_dag_processor_process
from updraft.core.db.models import DagModel

from .conftest import DagFolder, dag_source

UPDRAFT = str(Path(sys.executable).with_name("updraft"))


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s")
        time.sleep(0.1)


def active_dags(dag_folder: DagFolder) -> set[str]:
    with dag_folder.engine.connect() as conn:
        return set(conn.scalars(select(DagModel.dag_id).where(DagModel.is_active.is_(True))))


def test_one_pass_prints_what_it_found(dag_folder: DagFolder):
    dag_folder.write("good.py", dag_source("good"))
    dag_folder.write("bad.py", "from updraft import DAG\nraise ImportError('missing_dependency_xyz')\n")

    result = subprocess.run(
        [UPDRAFT, "dag-processor", "--num-runs", "1"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("2 files, 1 DAGs, 1 import errors")
    assert "missing_dependency_xyz" in result.stderr
    assert active_dags(dag_folder) == {"good"}
    assert "missing_dependency_xyz" in dag_folder.import_errors()["bad.py"]


def test_subdir_option_parses_only_that_folder(dag_folder: DagFolder):
    dag_folder.write("top.py", dag_source("top"))
    dag_folder.write("team/inner.py", dag_source("inner"))

    result = subprocess.run(
        [UPDRAFT, "dag-processor", "-n", "1", "-S", str(dag_folder.path / "team")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert active_dags(dag_folder) == {"inner"}


def test_sigterm_stops_a_running_processor_cleanly(dag_folder: DagFolder):
    dag_folder.write("first.py", dag_source("first"))
    process = subprocess.Popen(
        [UPDRAFT, "dag-processor"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: "first" in active_dags(dag_folder))
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "DAG processor stopped" in stderr


def test_the_processor_process_picks_up_new_files_until_stopped(
    dag_folder: DagFolder, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("UPDRAFT__DAG_PROCESSOR__REFRESH_INTERVAL", "0.2")
    dag_folder.write("early.py", dag_source("early"))
    stop = multiprocessing.get_context("fork").Event()
    process = start_dag_processor_process(stop)
    try:
        wait_for(lambda: "early" in active_dags(dag_folder))
        dag_folder.write("late.py", dag_source("late"))
        wait_for(lambda: "late" in active_dags(dag_folder))
        assert process.pid is not None and process.pid != os.getpid()
    finally:
        stop.set()
        process.join(15)
        if process.is_alive():
            process.kill()
    assert process.exitcode == 0
