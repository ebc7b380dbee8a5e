"""The local executor: a few warm fork-server workers; each attempt runs in its own child.

The scheduler calls ``queue`` with workloads and selects on ``filenos()``; ``collect`` returns
what finished. A worker that dies is replaced; attempts it had started are stopped (no attempt
runs without the worker that enforces its timeout), record themselves failed or up for retry,
and are otherwise found by the scheduler's check for lost attempts.

The workers do not outlive the scheduler: each one holds only its own end of its pipe, so it
reads EOF when the scheduler dies, however it dies (see ``fork_server``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from multiprocessing.connection import Connection
from multiprocessing.context import ForkProcess

from updraft.core.executors.fork_server import serve
from updraft.core.executors.workload import Workload, WorkloadResult

#: This process's ends of the pipes of all its live workers. A forked worker closes every one of
#: them (its own included): a pipe must read EOF in its worker as soon as the scheduler is gone,
#: which it cannot while a copy of the scheduler's end stays open in a worker.
_scheduler_ends: set[Connection] = set()


class _Worker:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, child_conn = ctx.Pipe(duplex=True)
        inherited = [conn.fileno() for conn in _scheduler_ends] + [self.conn.fileno()]
        self.process: ForkProcess = ctx.Process(
            target=serve,
            args=(child_conn, os.getpid(), inherited),
            name="updraft-worker",
            daemon=False,
        )
        self.process.start()
        child_conn.close()
        _scheduler_ends.add(self.conn)
        self.inflight: dict[tuple[str, str, str, int], Workload] = {}

    def close(self) -> None:
        _scheduler_ends.discard(self.conn)
        with contextlib.suppress(OSError):
            self.conn.close()


class LocalExecutor:
    """Runs workloads as child processes of warm local workers."""

    def __init__(self, num_workers: int = 2) -> None:
        self.num_workers = max(1, num_workers)
        self.workers: list[_Worker] = []

    def start(self) -> None:
        self.workers = [_Worker() for _ in range(self.num_workers)]

    @property
    def running(self) -> dict[tuple[str, str, str, int], Workload]:
        merged: dict[tuple[str, str, str, int], Workload] = {}
        for worker in self.workers:
            merged.update(worker.inflight)
        return merged

    def filenos(self) -> list[Connection]:
        return [worker.conn for worker in self.workers]

    def queue(self, workloads: list[Workload]) -> None:
        for workload in workloads:
            worker = min(self.workers, key=lambda w: len(w.inflight))
            worker.inflight[workload.key] = workload
            try:
                worker.conn.send(("run", workload.to_dict()))
            except OSError:
                self._replace(worker)

    def collect(self) -> list[WorkloadResult]:
        """Results of attempts whose process ended (does not block)."""
        results: list[WorkloadResult] = []
        for worker in list(self.workers):
            try:
                while worker.conn.poll():
                    message = worker.conn.recv()
                    # "started" notices need nothing here: the task process records its own start.
                    if message[0] == "done":
                        result: WorkloadResult = message[1]
                        worker.inflight.pop(result.workload.key, None)
                        results.append(result)
            except (EOFError, OSError):
                self._replace(worker)
        return results

    def check_workers(self) -> None:
        for worker in list(self.workers):
            if not worker.process.is_alive():
                self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        """A dead worker's attempts stop by themselves (see ``fork_server``); the DB tells the rest."""
        with contextlib.suppress(ValueError):
            self.workers.remove(worker)
        worker.close()
        self.workers.append(_Worker())

    def terminate(self) -> None:
        """Ask every running attempt to stop (SIGTERM, then SIGKILL after a grace period)."""
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.conn.send(("terminate",))

    def end(self, timeout: float = 10.0) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.conn.send(("stop",))
        for worker in self.workers:
            worker.process.join(timeout)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)
            worker.close()
