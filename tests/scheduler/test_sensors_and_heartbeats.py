"""Reschedule-mode sensors and heartbeat timeouts on the real scheduled path."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from sqlalchemy import select

from tests.scheduler.conftest import UPDRAFT, Env, wait_for
from updraft.core.db.engine import get_engine
from updraft.core.db.models import TaskReschedule


def test_reschedule_sensor_frees_its_slot_between_pokes_and_keeps_its_try(
    env: Env, scheduler, tmp_path: Path
):
    counter = tmp_path / "pokes"
    env.write_dag(
        "sensing.py",
        f"""
        from datetime import datetime
        from pathlib import Path
        from updraft import DAG
        from updraft.operators import EmptyOperator
        from updraft.operators.sensors import PythonSensor

        def third_time_lucky():
            path = Path({str(counter)!r})
            pokes = int(path.read_text()) + 1 if path.exists() else 1
            path.write_text(str(pokes))
            return pokes >= 3

        with DAG("sensing", start_date=datetime(2024, 1, 1), schedule=None):
            wait = PythonSensor(task_id="wait", python_callable=third_time_lucky, mode="reschedule",
                                poke_interval=0.2, timeout=60)
            wait >> EmptyOperator(task_id="after")
    """,
    )
    env.store()
    env.unpause("sensing")
    process = scheduler()
    run_id = env.trigger("sensing")
    assert env.wait_run("sensing", run_id) == "success", process.output()
    wait = next(t for t in env.tis("sensing", run_id) if t.task_id == "wait")
    assert (wait.state, wait.try_number) == ("success", 1)
    with get_engine().connect() as conn:
        pokes = conn.execute(select(TaskReschedule).where(TaskReschedule.run_id == run_id)).all()
    assert len(pokes) == 2 and all(p.try_number == 1 for p in pokes)
    assert counter.read_text() == "3"
    process.stop()


def test_an_unsupervised_task_that_stops_heartbeating_is_failed(env: Env, scheduler, tmp_path: Path):
    """Heartbeats guard attempts no local executor supervises (a remote worker, or one left by a
    scheduler that died): here the first scheduler is killed and its task frozen."""
    pid_file = tmp_path / "pid"
    env.write_dag(
        "frozen.py",
        f"""
        import os, time
        from datetime import datetime
        from pathlib import Path
        from updraft import DAG
        from updraft.operators import PythonOperator

        def freeze():
            Path({str(pid_file)!r}).write_text(str(os.getpid()))
            time.sleep(120)

        with DAG("frozen", start_date=datetime(2024, 1, 1), schedule=None):
            PythonOperator(task_id="freeze", python_callable=freeze)
    """,
    )
    env.store()
    env.unpause("frozen")
    first = scheduler()
    run_id = env.trigger("frozen")
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 30, what="the task's pid"))
    first.stop(signal.SIGKILL)
    os.kill(pid, signal.SIGSTOP)  # alive, but silent: only the heartbeat can tell
    try:
        second = scheduler(UPDRAFT__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="1.5")
        assert env.wait_run("frozen", run_id, timeout=60) == "failed", second.output()
        [ti] = env.tis("frozen", run_id)
        assert ti.state == "failed"
        log = env.home / "logs" / "dag_id=frozen" / f"run_id={run_id}" / "task_id=freeze" / "attempt=1.log"
        assert "stopped heartbeating" in log.read_text()
    finally:
        os.kill(pid, signal.SIGKILL)
    second.stop()


def test_clearing_a_running_task_stops_it_and_runs_it_again(env: Env, scheduler, tmp_path: Path):
    pid_file = tmp_path / "pid"
    env.write_dag(
        "restart.py",
        f"""
        import os, time
        from datetime import datetime
        from pathlib import Path
        from updraft import DAG
        from updraft.operators import PythonOperator

        def work(ti):
            if ti.try_number == 1:
                Path({str(pid_file)!r}).write_text(str(os.getpid()))
                time.sleep(120)
            return "second try"

        with DAG("restart", start_date=datetime(2024, 1, 1), schedule=None):
            PythonOperator(task_id="work", python_callable=work)
    """,
    )
    env.store()
    env.unpause("restart")
    process = scheduler(UPDRAFT__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="1")
    run_id = env.trigger("restart")
    wait_for(pid_file.exists, 30, what="the first try to start")
    cleared = subprocess.run(
        [UPDRAFT, "tasks", "clear", "restart", "-t", "^work$", "-y"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cleared.returncode == 0, cleared.stderr
    assert env.wait_run("restart", run_id, timeout=60) == "success", process.output()
    [ti] = env.tis("restart", run_id)
    assert (ti.state, ti.try_number) == ("success", 2)
    process.stop()
