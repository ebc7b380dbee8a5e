"""When the scheduler dies (SIGKILL included), the local executor's processes do not outlive it.

Idle warm workers and their pre-forked spares exit at once. A running attempt keeps its worker
for ``scheduler.shutdown_grace_period``, then is stopped (SIGTERM, then SIGKILL for its whole
process group) and records itself up for retry; the next scheduler runs the retry.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.scheduler.conftest import Env, SchedulerProcess, wait_for

if not Path("/proc/self/stat").exists():  # pragma: no cover - the helpers below read /proc
    pytest.skip("needs /proc to list a process's descendants", allow_module_level=True)


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` (children, their children, ...)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None and fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running, not exited (a zombie waiting for whoever adopted it to reap it counts as gone)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def kill_and_wait_gone(process: SchedulerProcess, pids: set[int], timeout: float) -> float:
    """SIGKILL the scheduler; seconds until every one of ``pids`` has exited (fails after ``timeout``)."""
    started = time.monotonic()
    process.stop(signal.SIGKILL)
    wait_for(lambda: not any(alive(pid) for pid in pids), timeout, interval=0.005, what=f"{pids} to exit")
    return time.monotonic() - started


def test_idle_workers_exit_at_once_when_the_scheduler_is_killed(env: Env, scheduler):
    process = scheduler(UPDRAFT__SCHEDULER__EXECUTOR_WORKERS="2")
    assert process.proc is not None
    # Two warm workers, each with its connected spare child waiting for a workload.
    workers = wait_for(
        lambda: len(found := descendants(process.proc.pid)) >= 4 and found, 60, what="the workers and spares"
    )
    elapsed = kill_and_wait_gone(process, workers, timeout=10)
    print(f"{len(workers)} executor processes exited {elapsed * 1000:.0f} ms after the scheduler's SIGKILL")


def test_the_dag_processor_exits_when_the_scheduler_is_killed(env: Env, scheduler):
    process = scheduler(with_processor=True, UPDRAFT__SCHEDULER__EXECUTOR_WORKERS="1")
    assert process.proc is not None
    # The forked DAG processor (named by its process title or cmdline) plus the worker and its spare.
    children = wait_for(
        lambda: len(found := descendants(process.proc.pid)) >= 3 and found,
        60,
        what="the processor and workers",
    )
    kill_and_wait_gone(process, children, timeout=15)


def test_a_running_attempt_is_stopped_after_the_grace_period_and_retried(env: Env, scheduler, tmp_path: Path):
    pid_file = tmp_path / "pid"
    env.write_dag(
        "crash.py",
        f"""
        import os
        from datetime import datetime, timedelta
        from pathlib import Path
        from updraft import DAG
        from updraft.operators import BashOperator

        with DAG("crash", start_date=datetime(2024, 1, 1), schedule=None):
            BashOperator(
                task_id="work",
                bash_command=(
                    "if [ {{{{ ti.try_number }}}} = 1 ]; then echo $$ > {pid_file}; sleep 120; fi; echo done"
                ),
                retries=1,
                retry_delay=timedelta(seconds=0.1),
            )
    """,
    )
    env.store()
    env.unpause("crash")
    first = scheduler(UPDRAFT__SCHEDULER__SHUTDOWN_GRACE_PERIOD="1")
    assert first.proc is not None
    run_id = env.trigger("crash")
    bash_pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), 60, what="the task"))
    tree = descendants(first.proc.pid)
    assert bash_pid in tree
    # 1 s of grace, then SIGTERM; the task's shell and its sleep go with it.
    elapsed = kill_and_wait_gone(first, tree, timeout=20)
    print(f"{len(tree)} processes (workers, spares, the attempt, its shell) gone after {elapsed:.2f}s")
    assert elapsed >= 1.0  # the grace period was given
    assert "1 running attempt(s) get 1s to finish, then are stopped" in first.output()
    [ti] = env.tis("crash", run_id)
    assert (ti.state, ti.try_number) == ("up_for_retry", 1)  # recorded by the stopped attempt itself
    log = env.home / "logs" / "dag_id=crash" / f"run_id={run_id}" / "task_id=work" / "attempt=1.log"
    assert "TaskTerminated" in log.read_text()
    second = scheduler()
    assert env.wait_run("crash", run_id) == "success", second.output()
    [ti] = env.tis("crash", run_id)
    assert (ti.state, ti.try_number) == ("success", 2)
    second.stop()


def test_an_attempt_whose_worker_is_killed_stops_and_is_retried(env: Env, scheduler, tmp_path: Path):
    pid_file = tmp_path / "pid"
    env.write_dag(
        "orphan.py",
        f"""
        from datetime import datetime, timedelta
        from updraft import DAG
        from updraft.operators import BashOperator

        with DAG("orphan", start_date=datetime(2024, 1, 1), schedule=None):
            BashOperator(
                task_id="work",
                bash_command=(
                    "if [ {{{{ ti.try_number }}}} = 1 ]; then echo $$ > {pid_file}; sleep 120; fi; echo done"
                ),
                retries=1,
                retry_delay=timedelta(seconds=0.1),
            )
    """,
    )
    env.store()
    env.unpause("orphan")
    process = scheduler()
    run_id = env.trigger("orphan")
    bash_pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), 60, what="the task"))
    attempt_pid = int(_stat(bash_pid)[1])  # type: ignore[index]
    worker_pid = int(_stat(attempt_pid)[1])  # type: ignore[index]
    started = time.monotonic()
    os.kill(worker_pid, signal.SIGKILL)
    # Without its worker nobody would enforce the attempt's timeout: it stops itself at once.
    wait_for(lambda: not alive(attempt_pid) and not alive(bash_pid), 20, interval=0.005, what="the attempt")
    print(f"the attempt and its shell exited {(time.monotonic() - started) * 1000:.0f} ms after its worker")
    assert env.wait_run("orphan", run_id) == "success", process.output()
    [ti] = env.tis("orphan", run_id)
    assert (ti.state, ti.try_number) == ("success", 2)
    log = env.home / "logs" / "dag_id=orphan" / f"run_id={run_id}" / "task_id=work" / "attempt=1.log"
    assert "TaskTerminated" in log.read_text()
    process.stop()
