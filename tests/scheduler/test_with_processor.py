"""The scheduler with its DAG processor, driven with the CLI as a user would."""

from __future__ import annotations

import os
import subprocess

from sqlalchemy import select

from tests.scheduler.conftest import UPDRAFT, Env, wait_for
from updraft.core.db.engine import get_engine
from updraft.core.db.models import DagModel, ParseImportError

GOOD = """
    from datetime import datetime
    from updraft import DAG
    from updraft.operators import BashOperator
    with DAG("{dag_id}", start_date=datetime(2024, 1, 1), schedule=None):
        a = BashOperator(task_id="a", bash_command="echo a")
        b = BashOperator(task_id="b", bash_command="echo b")
        c = BashOperator(task_id="c", bash_command="echo c")
        a >> b >> c
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [UPDRAFT, *args], capture_output=True, text=True, timeout=120, env=os.environ.copy()
    )


def import_errors() -> dict[str, str]:
    with get_engine().connect() as conn:
        return {r.filename: r.stacktrace for r in conn.execute(select(ParseImportError))}


def active_dags() -> set[str]:
    with get_engine().connect() as conn:
        return set(conn.scalars(select(DagModel.dag_id).where(DagModel.is_active.is_(True))))


def test_broken_file_is_an_import_error_while_other_dags_run_and_clear_reruns(env: Env, scheduler):
    env.write_dag("good.py", GOOD.format(dag_id="good"))
    broken = env.write_dag(
        "broken.py", "from updraft import DAG\nwith DAG('fixed', schedule=None) as d\n    pass\n"
    )
    process = scheduler(
        with_processor=True,
        UPDRAFT__DAG_PROCESSOR__REFRESH_INTERVAL="0.3",
        UPDRAFT__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="0.5",
        UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
    )
    try:
        wait_for(lambda: "good" in active_dags() and str(broken) in import_errors(), 60, what="parsing")
    except AssertionError:
        raise AssertionError(process.output()[-3000:]) from None
    assert "SyntaxError" in import_errors()[str(broken)]

    triggered = cli("dags", "trigger", "good", "-o", "json")
    assert triggered.returncode == 0, triggered.stderr
    [run] = env.runs("good")
    assert env.wait_run("good", run.run_id) == "success", process.output()

    cleared = cli("tasks", "clear", "good", "-t", "^b$", "--downstream", "-y")
    assert cleared.returncode == 0, cleared.stderr
    wait_for(
        lambda: {t.task_id: t.try_number for t in env.tis("good", run.run_id)} == {"a": 1, "b": 2, "c": 2},
        60,
        what="b and c to run again",
    )
    assert env.wait_run("good", run.run_id) == "success"

    env.write_dag("broken.py", GOOD.format(dag_id="fixed"))
    wait_for(
        lambda: "fixed" in active_dags() and str(broken) not in import_errors(),
        60,
        what="the fix to be parsed",
    )
    env.dags.joinpath("good.py").unlink()
    wait_for(lambda: "good" not in active_dags(), 60, what="the deleted file's DAG to go inactive")
    assert len(env.runs("good")) == 1  # its history stays
    process.stop()
