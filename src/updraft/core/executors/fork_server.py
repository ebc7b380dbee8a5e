"""The warm worker process of the local executor.

It starts with updraft (and, once seen, each DAG file) already imported, and forks one child
per task attempt, so an attempt starts in milliseconds and whatever its code does (crash, leak,
``os._exit``) stays inside that child. Child exits are observed through pidfds, so the worker
waits on its pipe and its children at once without polling. An attempt that runs past its
timeout has its process group terminated, then killed.

Nothing here outlives the scheduler (see ADR 0002, "When the scheduler dies"). The worker learns
that its scheduler is gone from EOF on its pipe (only the scheduler holds the other end) and, on
Linux, from ``PR_SET_PDEATHSIG``. It then takes no more work, gives running attempts
``scheduler.shutdown_grace_period`` to finish, stops the rest like a timed-out attempt, and exits.
An attempt's process watches its worker through a pipe of its own: if the worker dies (even by
SIGKILL), the attempt is stopped the same way, so no task runs on without a supervisor.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from updraft.core.executors.workload import Workload, WorkloadResult

KILL_GRACE_S = 5.0
#: prctl(2) option: the signal this process gets when the thread that forked it exits.
_PR_SET_PDEATHSIG = 1

log = logging.getLogger(__name__)


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
        #: Children hold the read end; only this worker holds the write end, so a child reads EOF
        #: exactly when the worker has exited, however it died.
        self.lifeline_read, self.lifeline_write = os.pipe()
        #: Signals (SIGTERM, the parent-death signal) wake the select loop through this pipe.
        self.wake_read, self.wake_write = os.pipe()
        #: The scheduler is gone: no more work; running attempts get a grace period, then are stopped.
        self.orphaned = False

    def worker_fds(self) -> list[int]:
        """The worker's own pipes, which a forked child must not keep (``conn`` aside)."""
        return [self.lifeline_write, self.wake_read, self.wake_write]


def set_parent_death_signal(sig: int) -> bool:
    """Linux: ask the kernel to send ``sig`` to this process when its parent exits.

    Strictly, when the parent *thread* that forked this process exits; the caller confirms with
    ``os.getppid()`` before it acts on the signal. False where prctl is not available.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def serve(conn: Connection, parent_pid: int | None = None, inherited_fds: Iterable[int] = ()) -> None:
    """Main loop of a worker: run workloads from ``conn``, report results back on it.

    ``parent_pid`` is the scheduler's pid; ``inherited_fds`` are the scheduler's ends of the
    workers' pipes (this one's included), which the worker closes so that its pipe reads EOF as
    soon as the scheduler is gone.
    """
    for fd in inherited_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    state = _WorkerState(conn)
    _watch_parent(state)
    from updraft.core.config import conf
    from updraft.core.db.engine import dispose_engines
    from updraft.core.sdk_settings import configure_sdk

    grace = conf.getfloat("scheduler", "shutdown_grace_period", fallback=30.0)
    dispose_engines()
    configure_sdk()
    _warm_up()
    state.spare = _make_spare(state)
    accepting = True
    while accepting or state.children:
        if not state.orphaned and parent_pid is not None and os.getppid() != parent_pid:
            accepting = False
            _orphan(state, grace, parent_pid, "it exited")
        now = time.monotonic()
        timeout = _next_deadline(state.children, now)
        readers: list[Any] = [child.pidfd for child in state.children.values()] + list(state.discarded)
        readers.append(state.wake_read)
        if accepting:
            readers.append(conn)
        ready, _, _ = select.select(readers, [], [], timeout)
        for item in ready:
            if item is conn:
                accepting = _handle_message(state)
                if not accepting and not state.orphaned and conn.closed:
                    _orphan(state, grace, parent_pid, "its pipe was closed")
            elif item == state.wake_read:
                _drain(state.wake_read)  # the loop's head checks whether the parent is gone
            elif item in state.discarded:
                _reap_silently(state, item)
            else:
                _reap(conn, state.children, item)
        _enforce_deadlines(state.children, time.monotonic())
    _discard_spare(state)
    with contextlib.suppress(OSError):
        conn.close()


def _watch_parent(state: _WorkerState) -> None:
    """Wake the loop on SIGTERM and, on Linux, on the parent's death (a SIGTERM from the kernel).

    SIGTERM alone does not stop the worker: the scheduler coordinates a shutdown (as with SIGINT,
    which a Ctrl-C also sends to the whole group). Only a parent that is really gone does.
    """
    for fd in (state.wake_read, state.wake_write):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(state.wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    # Set after the handler: the kernel's signal must find it. A parent that died before this
    # call sends nothing; the loop's check of os.getppid() catches that case.
    set_parent_death_signal(signal.SIGTERM)


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError, InterruptedError):
        while os.read(fd, 512):
            pass


def _orphan(state: _WorkerState, grace: float, parent_pid: int | None, how: str) -> None:
    """The scheduler is gone: take no more work; stop running attempts after ``grace`` seconds.

    Stopped attempts record themselves failed or up for retry (SIGTERM raises TaskTerminated);
    one that had to be killed is found by the next scheduler (its pid is gone) and failed then.
    """
    state.orphaned = True
    _discard_spare(state)
    if state.children:
        log.warning(
            "the scheduler (pid %s) is gone (%s): %d running attempt(s) get %gs to finish, then are stopped",
            parent_pid,
            how,
            len(state.children),
            grace,
        )
    stop_at = time.monotonic() + grace
    for child in state.children.values():
        # Its result goes nowhere now (nobody reads the pipe): the attempt records its own.
        if child.term_sent_at is None and (child.deadline is None or child.deadline > stop_at):
            child.deadline = stop_at


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
        # The scheduler is gone (nobody else holds its end of the pipe).
        with contextlib.suppress(OSError):
            state.conn.close()
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


def _child_main(state: _WorkerState, read_fd: int | None, workload: Workload | None) -> None:
    """Body of an attempt's process; never returns. A spare first waits for its workload."""
    code = 1
    try:
        os.setsid()
        _leave_worker(state)
        from updraft.core.runtime.task_process import prepare_process, run_workload

        prepare_process()
        if workload is None:
            assert read_fd is not None
            data = _read_all(read_fd)  # EOF, also when the worker dies: nothing to run
            if not data:
                os._exit(0)  # discarded before use
            workload = Workload.from_dict(json.loads(data))
        _watch_worker(state.lifeline_read)
        dags, error = state.cache.peek(workload.fileloc)
        code = run_workload(workload, dags.get(workload.dag_id), error)
    except BaseException:  # noqa: BLE001 - report anything, then leave without the parent's cleanup
        traceback.print_exc()
    finally:
        os._exit(code)


def _leave_worker(state: _WorkerState) -> None:
    """In a freshly forked child: drop the worker's pipes and signal set-up."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError):
        state.conn.close()  # this process's copy only; the worker keeps talking to the scheduler
    for fd in state.worker_fds():
        with contextlib.suppress(OSError):
            os.close(fd)


def _watch_worker(lifeline_fd: int) -> None:
    """Stop this attempt if its worker exits first: SIGTERM now, SIGKILL for the group later."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(lifeline_fd, 1):
                pass
        # The worker is gone, so nobody enforces this attempt's timeout any more.
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(KILL_GRACE_S)
        _kill_group(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="updraft-worker-watch", daemon=True).start()


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _make_spare(state: _WorkerState) -> _Spare:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(write_fd)
        _child_main(state, read_fd, None)
    os.close(read_fd)
    return _Spare(pid=pid, pidfd=os.pidfd_open(pid), write_fd=write_fd, generation=state.cache.generation)


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
            _child_main(state, None, workload)
        pidfd = os.pidfd_open(pid)
    assert pidfd is not None
    deadline = time.monotonic() + workload.timeout_s + KILL_GRACE_S if workload.timeout_s else None
    state.children[pid] = _Child(pid=pid, pidfd=pidfd, workload=workload, deadline=deadline)
    state.conn.send(("started", workload.to_dict(), pid))
    state.spare = _make_spare(state)


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
