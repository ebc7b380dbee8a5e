"""The warm worker process of the local executor.

It starts with updraft (and, once seen, each DAG file) already imported, and forks one child
per task attempt, so an attempt starts in milliseconds and whatever its code does (crash, leak,
``os._exit``) stays inside that child. Child exits are observed through pidfds, so the worker
waits on its pipe and its children at once without polling. An attempt that runs past its
timeout has its process group terminated, then killed.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from updraft.core.executors.workload import Workload, WorkloadResult

KILL_GRACE_S = 5.0


@dataclass
class _Child:
    pid: int
    pidfd: int
    workload: Workload
    deadline: float | None
    term_sent_at: float | None = None
    timed_out: bool = False


class DagFileCache:
    """DAG files imported once in the worker (re-imported when the file changes on disk)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[int, int], dict[str, Any], str | None]] = {}

    def get(self, fileloc: str) -> tuple[dict[str, Any], str | None]:
        from updraft.core.dagbag import load_file
        from updraft.sdk.templating import get_jinja_env

        try:
            stat = os.stat(fileloc)
        except OSError as exc:
            return {}, f"cannot read DAG file {fileloc}: {exc}"
        signature = (stat.st_mtime_ns, stat.st_size)
        cached = self._entries.get(fileloc)
        if cached is not None and cached[0] == signature:
            return cached[1], cached[2]
        dags, error = load_file(Path(fileloc))
        for dag in dags:
            # Built once here, inherited by every attempt's process.
            dag.task_group and get_jinja_env(dag)
        entry = (signature, {dag.dag_id: dag for dag in dags}, error)
        self._entries[fileloc] = entry
        return entry[1], entry[2]


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def serve(conn: Connection) -> None:
    """Main loop of a worker: run workloads from ``conn``, report results back on it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from updraft.core.db.engine import dispose_engines
    from updraft.core.sdk_settings import configure_sdk

    dispose_engines()
    configure_sdk()
    _warm_up()
    cache = DagFileCache()
    children: dict[int, _Child] = {}
    accepting = True
    while accepting or children:
        now = time.monotonic()
        timeout = _next_deadline(children, now)
        readers: list[Any] = [child.pidfd for child in children.values()]
        if accepting:
            readers.append(conn)
        ready, _, _ = select.select(readers, [], [], timeout)
        for item in ready:
            if item is conn:
                accepting = _handle_message(conn, cache, children)
            else:
                _reap(conn, children, item)
        _enforce_deadlines(children, time.monotonic())
    with contextlib.suppress(OSError):
        conn.close()


def _warm_up() -> None:
    """Import, once, everything an attempt needs, so each forked child starts with it loaded."""
    import importlib

    for name in (
        "jinja2.ext",
        "jinja2.sandbox",
        "updraft.sdk.templating",
        "updraft.sdk.macros",
        "updraft.operators.python",
        "updraft.operators.bash",
        "updraft.operators.empty",
        "updraft.operators.taskflow",
    ):
        importlib.import_module(name)
    from updraft.core.db.engine import get_engine
    from updraft.core.runtime.task_process import warm_up

    engine = get_engine()
    warm_up(engine)
    # Children get their own connections (see the fork hook in updraft.core.db.engine).
    engine.dispose()


def _next_deadline(children: dict[int, _Child], now: float) -> float | None:
    waits = []
    for child in children.values():
        if child.term_sent_at is not None:
            waits.append(child.term_sent_at + KILL_GRACE_S - now)
        elif child.deadline is not None:
            waits.append(child.deadline - now)
    return max(0.0, min(waits)) if waits else None


def _handle_message(conn: Connection, cache: DagFileCache, children: dict[int, _Child]) -> bool:
    try:
        message = conn.recv()
    except (EOFError, OSError):
        # The scheduler is gone. Running attempts carry on and record their own results.
        return False
    kind = message[0]
    if kind == "run":
        _spawn(conn, cache, children, Workload.from_dict(message[1]))
    elif kind == "terminate":
        now = time.monotonic()
        for child in children.values():
            if child.term_sent_at is None:
                child.term_sent_at = now
                _kill_group(child.pid, signal.SIGTERM)
    elif kind == "stop":
        return False
    return True


def _spawn(conn: Connection, cache: DagFileCache, children: dict[int, _Child], workload: Workload) -> None:
    dags, error = cache.get(workload.fileloc)
    pid = os.fork()
    if pid == 0:  # the task's own process
        code = 1
        try:
            os.setsid()
            from updraft.core.runtime.task_process import run_workload

            code = run_workload(workload, dags.get(workload.dag_id), error)
        except BaseException:  # noqa: BLE001 - report anything, then leave without cleanup of the parent's state
            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.monotonic() + workload.timeout_s + KILL_GRACE_S if workload.timeout_s else None
    children[pid] = _Child(pid=pid, pidfd=os.pidfd_open(pid), workload=workload, deadline=deadline)
    conn.send(("started", workload.to_dict(), pid))


def _reap(conn: Connection, children: dict[int, _Child], pidfd: int) -> None:
    child = next(c for c in children.values() if c.pidfd == pidfd)
    _, status, usage = os.wait4(child.pid, 0)
    os.close(child.pidfd)
    del children[child.pid]
    result = WorkloadResult(
        workload=child.workload,
        pid=child.pid,
        exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        cpu_time_s=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=usage.ru_maxrss * 1024,
        timed_out=child.timed_out,
    )
    with contextlib.suppress(OSError):
        conn.send(("done", result))


def _enforce_deadlines(children: dict[int, _Child], now: float) -> None:
    """Past execution_timeout (plus grace): SIGTERM the attempt's group; later, SIGKILL it."""
    for child in children.values():
        if child.term_sent_at is not None:
            if now >= child.term_sent_at + KILL_GRACE_S:
                _kill_group(child.pid, signal.SIGKILL)
        elif child.deadline is not None and now >= child.deadline:
            child.timed_out = True
            child.term_sent_at = now
            _kill_group(child.pid, signal.SIGTERM)
