"""The scheduler loop: create due runs, move runs forward, queue what may start, and sleep
only until the next event (a task finishing, a wake-up, a retry or run coming due).

One pass: collect finished attempts -> fail the ones that died -> create due runs -> start
queued runs -> evaluate the runs that changed -> queue runnable task instances within limits.
Between passes it waits on the executor's pipes and the wake-up socket, with a timeout that is
the earliest timed event, capped by ``scheduler.idle_poll_interval`` (changes made by other
processes, e.g. the API, are seen by that poll).
"""

from __future__ import annotations

import logging
import os
import select as io_select
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from updraft.core.config import conf
from updraft.core.db.models import Job
from updraft.core.executors.local import LocalExecutor
from updraft.core.scheduler import failures
from updraft.core.scheduler.assets import create_asset_triggered_runs
from updraft.core.scheduler.dag_cache import DagCache
from updraft.core.scheduler.queueing import queue_runnable, read_pool_sizes
from updraft.core.scheduler.run_creation import RunCreator
from updraft.core.scheduler.run_processing import process_runs, running_runs, start_queued_runs
from updraft.core.scheduler.wakeup import WakeupListener

log = logging.getLogger("updraft.scheduler")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class SchedulerStats:
    passes: int = 0
    runs_created: int = 0
    tasks_queued: int = 0
    runs_finished: list[tuple[tuple[str, str], str]] = field(default_factory=list)


class Scheduler:
    """Drives every active DAG's runs; see the module docstring for one pass."""

    def __init__(
        self,
        engine: Engine,
        executor: LocalExecutor,
        *,
        parallelism: int | None = None,
        num_passes: int | None = None,
        idle_poll_interval: float | None = None,
        housekeeping_interval: float = 5.0,
        shutdown_grace_period: float | None = None,
        scope: set[tuple[str, str]] | None = None,
        on_pass: Callable[[], bool] | None = None,
    ) -> None:
        """``scope`` limits the scheduler to those runs (a backfill), creating no timetable runs;
        ``on_pass`` is called after every pass and stops the loop by returning True."""
        self.engine = engine
        self.executor = executor
        self.parallelism = parallelism or conf.getint("core", "parallelism")
        self.num_passes = num_passes
        configured_poll = conf.getfloat("scheduler", "idle_poll_interval", fallback=1.0)
        self.idle_poll_interval = float(idle_poll_interval or configured_poll or 1.0)
        self.housekeeping_interval = housekeeping_interval
        self.shutdown_grace_period = (
            shutdown_grace_period
            if shutdown_grace_period is not None
            else conf.getfloat("scheduler", "shutdown_grace_period", fallback=30.0)
        )
        self.scope = scope
        self.on_pass = on_pass
        self.cache = DagCache()
        self.creator = RunCreator(self.cache)
        self.stats = SchedulerStats()
        self.stopping = False
        self.job_id: int | None = None
        self.wakeup: WakeupListener | None = None
        self._dirty: set[tuple[str, str]] = set()
        self._next_housekeeping = 0.0
        self._next_event_at: datetime | None = None
        self._again = False
        self._poll = True
        self._pending_results: list[Any] = []
        self._next_creation: datetime | None = None
        self._pool_sizes: dict[str, int] | None = None
        self._assets_queued = False

    # -- lifecycle ----------------------------------------------------------------------------

    def request_stop(self, *_: Any) -> None:
        if not self.stopping:
            log.info(
                "stop requested: no new work; waiting up to %.0fs for running tasks",
                self.shutdown_grace_period,
            )
        self.stopping = True

    def run(self) -> SchedulerStats:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        self.wakeup = WakeupListener()
        self._register_job()
        self._recover()
        try:
            while not self.stopping:
                self.run_pass()
                if self.num_passes is not None and self.stats.passes >= self.num_passes:
                    break
                if self.on_pass is not None and self.on_pass():
                    break
                self._wait()
        finally:
            self._shutdown()
        return self.stats

    # -- one pass -----------------------------------------------------------------------------

    def run_pass(self) -> None:
        """One pass; each step runs only when something it depends on may have changed."""
        now = utcnow()
        self.stats.passes += 1
        results = self._pending_results + self.executor.collect()
        self._pending_results = []
        poll, self._poll = self._poll, False
        housekeeping = time.monotonic() >= self._next_housekeeping
        creation_due = self._next_creation is not None and self._next_creation <= now
        scheduled = 0
        # Runs named by their tasks' "done" messages: a slot freed even if nothing new was scheduled.
        finished_attempts = bool(self._dirty)
        with self.engine.begin() as conn:
            if results:
                self._dirty |= failures.handle_results(conn, self.cache, results, now)
            if housekeeping:
                self._housekeeping(conn, now)
                poll = True
            if (poll or creation_due) and self.scope is None:
                self.stats.runs_created += len(self.creator.create_due_runs(conn, now))
                self._next_creation = self.creator.next_creation_time(conn)
            asset_runs = []
            if (poll or self._again or self._assets_queued) and self.scope is None:
                self._assets_queued = False
                asset_runs = create_asset_triggered_runs(conn, self.cache, now)
                self.stats.runs_created += len(asset_runs)
            if poll or self._again or asset_runs:
                self._dirty |= set(start_queued_runs(conn, self.cache, now, self.scope))
            if self.scope is not None:
                self._dirty &= self.scope
            self._again = False
            result = process_runs(conn, self.cache, self._dirty, now) if self._dirty else None
            self._dirty = set()
        if result is not None:
            self._next_event_at = result.next_event_at
            scheduled = result.scheduled
            for key, state in result.finished:
                self.stats.runs_finished.append((key, state.value))
                log.info("run %s of %s finished: %s", key[1], key[0], state.value)
            # A finished run may let a queued run start, or a DAG at max_active_runs create its next.
            self._again = bool(result.finished)
        callbacks = result.callbacks if result is not None else []
        workloads = []
        if scheduled or results or poll or finished_attempts:
            free = self.parallelism - len(self.executor.running)
            with self.engine.begin() as conn:
                workloads = queue_runnable(conn, self.cache, now, free, self._pool_sizes, self.scope)
        if workloads or callbacks:
            self.executor.queue([*workloads, *callbacks])
            self.stats.tasks_queued += len(workloads)

    def _housekeeping(self, conn: Any, now: datetime) -> None:
        self._next_housekeeping = time.monotonic() + self.housekeeping_interval
        self.executor.check_workers()
        self.creator.refresh_next_runs(conn)
        self._pool_sizes = read_pool_sizes(conn)
        self._dirty |= set(running_runs(conn, self.scope))
        if self.scope is None:
            tracked = set(self.executor.running)
            self._dirty |= failures.find_lost_attempts(conn, self.cache, tracked, now)
        if self.job_id is not None:
            conn.execute(update(Job).where(Job.id == self.job_id).values(latest_heartbeat=now))

    def _wait(self) -> None:
        """Block until there is work: a finished attempt, a wake-up, or a timed event."""
        if self._again:
            return
        while True:
            now = utcnow()
            deadline = self.idle_poll_interval
            for moment in (self._next_creation, self._next_event_at):
                if moment is not None:
                    deadline = min(deadline, max(0.0, (moment - now).total_seconds()))
            deadline = min(deadline, max(0.0, self._next_housekeeping - time.monotonic()))
            readers: list[Any] = [*self.executor.filenos()]
            if self.wakeup is not None:
                readers.append(self.wakeup)
            try:
                ready, _, _ = io_select.select(readers, [], [], deadline)
            except InterruptedError:
                return
            if self.stopping:
                return
            if not ready:
                # A timed event, or the idle poll: changes by other processes (API, CLI) are seen here.
                self._poll = True
                with self.engine.connect() as conn:
                    self._dirty |= set(running_runs(conn, self.scope))
                return
            if self.wakeup is not None and self.wakeup in ready:
                look_again, changed_runs = self.wakeup.drain()
                self._dirty |= changed_runs
                if self.wakeup.assets_queued:
                    self.wakeup.assets_queued = False
                    self._assets_queued = True
                if look_again:
                    self._poll = True
                    self._next_housekeeping = 0.0  # new DAG versions get their next run at once
                self._pending_results += self.executor.collect()
                return
            # Only attempts that finished need a pass; "started" notices do not.
            self._pending_results += self.executor.collect()
            if self._pending_results:
                return

    # -- start and stop -----------------------------------------------------------------------

    def _register_job(self) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            self.job_id = conn.execute(
                insert(Job).returning(Job.id),
                {
                    "job_type": "scheduler" if self.scope is None else "backfill",
                    "state": "running",
                    "hostname": socket.gethostname(),
                    "pid": os.getpid(),
                    "start_date": now,
                    "latest_heartbeat": now,
                },
            ).scalar_one()

    def _recover(self) -> None:
        """After a crash: requeue what was queued; watch what is still running by its pid."""
        if self.scope is not None:
            return  # a backfill leaves other work to the scheduler
        now = utcnow()
        with self.engine.begin() as conn:
            requeued = failures.requeue_orphans(conn, set())
            lost = failures.find_lost_attempts(conn, self.cache, set(), now)
            self._dirty |= set(running_runs(conn)) | lost
        if requeued or lost:
            log.info(
                "recovered: %d queued task instances requeued, %d lost attempts failed", requeued, len(lost)
            )

    def _shutdown(self) -> None:
        deadline = time.monotonic() + self.shutdown_grace_period
        while self.executor.running and time.monotonic() < deadline:
            readers = self.executor.filenos()
            io_select.select(readers, [], [], max(0.0, min(1.0, deadline - time.monotonic())))
            self._record_results_only()
        interrupted = set(self.executor.running)
        if interrupted:
            log.warning("stopping %d running task(s); they will run again", len(interrupted))
            self.executor.terminate()
            stop_by = time.monotonic() + 15
            while self.executor.running and time.monotonic() < stop_by:
                io_select.select(self.executor.filenos(), [], [], 0.5)
                self._record_results_only()
        self.executor.end()
        now = utcnow()
        with self.engine.begin() as conn:
            failures.release_interrupted(conn, interrupted)
            if self.scope is None:
                failures.requeue_orphans(conn, set())
            if self.job_id is not None:
                conn.execute(update(Job).where(Job.id == self.job_id).values(state="success", end_date=now))
        if self.wakeup is not None:
            self.wakeup.close()
        log.info("scheduler stopped")

    def _record_results_only(self) -> None:
        results = self.executor.collect()
        if results:
            with self.engine.begin() as conn:
                failures.handle_results(conn, self.cache, results, utcnow())


def heartbeat_age(engine: Engine) -> timedelta | None:
    """How long ago the newest running scheduler heartbeated (for health checks)."""
    with engine.connect() as conn:
        latest = conn.scalar(
            select(func.max(Job.latest_heartbeat)).where(Job.job_type == "scheduler", Job.state == "running")
        )
    return utcnow() - latest if latest else None
