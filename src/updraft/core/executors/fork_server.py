"""The warm worker process of the local executor.

It starts with updraft (and, once seen, each DAG file) already imported, and forks one child
per task attempt, so an attempt starts in milliseconds and whatever its code does (crash, leak,
``os._exit``) stays inside that child. Child exits are observed through pidfds, so the worker
waits on its pipe and its children at once without polling. An attempt that runs past its
timeout has its process group terminated, then killed.
"""

from __future__ import annotations

import contextlib
import json
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
        #: Bumped whenever a file is (re)imported: a spare forked before that lacks it.
        self.generation = 0

    def peek(self, fileloc: str) -> tuple[dict[str, Any], str | None]:
        """What is cached for ``fileloc``, without checking the file (the worker just did)."""
        entry = self._entries.get(fileloc)
        return (entry[1], entry[2]) if entry is not None else ({}, f"DAG file {fileloc} was not loaded")

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
        self.generation += 1
        return entry[1], entry[2]


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@dataclass
class _Spare:
    """A child forked ahead of time, already connected to the DB, waiting for its workload."""

    pid: int
    pidfd: int
    write_fd: int
    generation: int


class _WorkerState:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cache = DagFileCache()
        self.children: dict[int, _Child] = {}
        self.spare: _Spare | None = None
        #: pidfd -> pid of spares that were discarded (a DAG file changed); reaped silently.
        self.discarded: dict[int, int] = {}


def serve(conn: Connection) -> None:
    """Main loop of a worker: run workloads from ``conn``, report results back on it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from updraft.core.db.engine import dispose_engines
    from updraft.core.sdk_settings import configure_sdk

    dispose_engines()
    configure_sdk()
    _warm_up()
    state = _WorkerState(conn)
    state.spare = _make_spare(state.cache)
    accepting = True
    while accepting or state.children:
        now = time.monotonic()
        timeout = _next_deadline(state.children, now)
        readers: list[Any] = [child.pidfd for child in state.children.values()] + list(state.discarded)
        if accepting:
            readers.append(conn)
        ready, _, _ = select.select(readers, [], [], timeout)
        for item in ready:
            if item is conn:
                accepting = _handle_message(state)
            elif item in state.discarded:
                _reap_silently(state, item)
            else:
                _reap(conn, state.children, item)
        _enforce_deadlines(state.children, time.monotonic())
    _discard_spare(state)
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


def _handle_message(state: _WorkerState) -> bool:
    try:
        message = state.conn.recv()
    except (EOFError, OSError):
        # The scheduler is gone. Running attempts carry on and record their own results.
        return False
    kind = message[0]
    if kind == "run":
        _spawn(state, Workload.from_dict(message[1]))
    elif kind == "terminate":
        now = time.monotonic()
        for child in state.children.values():
            if child.term_sent_at is None:
                child.term_sent_at = now
                _kill_group(child.pid, signal.SIGTERM)
    elif kind == "stop":
        return False
    return True


def _child_main(cache: DagFileCache, read_fd: int | None, workload: Workload | None) -> None:
    """Body of an attempt's process; never returns. A spare first waits for its workload."""
    code = 1
    try:
        os.setsid()
        from updraft.core.runtime.task_process import prepare_process, run_workload

        prepare_process()
        if workload is None:
            assert read_fd is not None
            data = _read_all(read_fd)
            if not data:
                os._exit(0)  # discarded before use
            workload = Workload.from_dict(json.loads(data))
            dags, error = cache.peek(workload.fileloc)
        else:
            dags, error = cache.peek(workload.fileloc)
        code = run_workload(workload, dags.get(workload.dag_id), error)
    except BaseException:  # noqa: BLE001 - report anything, then leave without the parent's cleanup
        traceback.print_exc()
    finally:
        os._exit(code)


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _make_spare(cache: DagFileCache) -> _Spare:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(write_fd)
        _child_main(cache, read_fd, None)
    os.close(read_fd)
    return _Spare(pid=pid, pidfd=os.pidfd_open(pid), write_fd=write_fd, generation=cache.generation)


def _discard_spare(state: _WorkerState) -> None:
    spare, state.spare = state.spare, None
    if spare is not None:
        with contextlib.suppress(OSError):
            os.close(spare.write_fd)  # the spare reads EOF and exits
        state.discarded[spare.pidfd] = spare.pid


def _reap_silently(state: _WorkerState, pidfd: int) -> None:
    pid = state.discarded.pop(pidfd)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    os.close(pidfd)


def _spawn(state: _WorkerState, workload: Workload) -> None:
    """Hand the workload to the waiting spare (or fork a child), then fork the next spare."""
    state.cache.get(workload.fileloc)
    spare = state.spare
    pid = pidfd = None
    if spare is not None and spare.generation == state.cache.generation:
        state.spare = None
        try:
            os.write(spare.write_fd, json.dumps(workload.to_dict()).encode())
            os.close(spare.write_fd)
            pid, pidfd = spare.pid, spare.pidfd
        except OSError:
            state.discarded[spare.pidfd] = spare.pid
    if pid is None:
        _discard_spare(state)
        pid = os.fork()
        if pid == 0:
            _child_main(state.cache, None, workload)
        pidfd = os.pidfd_open(pid)
    assert pidfd is not None
    deadline = time.monotonic() + workload.timeout_s + KILL_GRACE_S if workload.timeout_s else None
    state.children[pid] = _Child(pid=pid, pidfd=pidfd, workload=workload, deadline=deadline)
    state.conn.send(("started", workload.to_dict(), pid))
    state.spare = _make_spare(state.cache)


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
