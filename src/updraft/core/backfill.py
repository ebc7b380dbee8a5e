"""Backfills: run a DAG for every timetable interval in a date range.

The runs are planned from the stored DAG's timetable (as with catchup), created as
``backfill__<date>`` runs at most ``max_active_runs`` at a time, and driven either by the running
scheduler or, if none is running, by a scheduler in this process limited to these runs.
Existing runs in the range are kept, re-run from scratch (``reset_dagruns``) or have their
failed tasks re-run (``rerun_failed_tasks``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, select, update

from updraft.core.dag_runs import create_dag_run, latest_serialized
from updraft.core.db.models import DagRun, TaskInstance
from updraft.core.scheduler.loop import heartbeat_age
from updraft.core.scheduler.wakeup import notify_scheduler
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.serialization import SerializedDag
from updraft.sdk.states import DagRunState, DagRunType, TaskInstanceState
from updraft.sdk.timetables import DagRunInfo, TimeRestriction

RunKey = tuple[str, str]
FAILED_TI_STATES = (TaskInstanceState.FAILED.value, TaskInstanceState.UPSTREAM_FAILED.value)


class BackfillError(UpdraftException):
    """The backfill's arguments cannot describe any run (bad range, manual-only DAG)."""


def plan_runs(dag: SerializedDag, start: datetime, end: datetime) -> list[DagRunInfo]:
    """Every run the timetable has with a logical date in [start, end], in order."""
    if end < start:
        raise BackfillError(
            f"the backfill range ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )
    if not dag.timetable.can_be_scheduled or not dag.timetable.periodic:
        raise BackfillError(
            f"DAG {dag.dag_id!r} has no periodic schedule ({dag.timetable.summary}); nothing to backfill"
        )
    earliest = max(start, dag.start_date) if dag.start_date else start
    latest = min(end, dag.end_date) if dag.end_date else end
    restriction = TimeRestriction(earliest=earliest, latest=latest, catchup=True)
    plan: list[DagRunInfo] = []
    last = None
    while len(plan) < 100_000:
        info = dag.timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None or info.logical_date is None or info.logical_date > latest:
            break
        plan.append(info)
        last = info.data_interval
    return plan


@dataclass
class BackfillResult:
    planned: list[DagRunInfo]
    runs: dict[RunKey, str] = field(default_factory=dict)
    skipped_existing: list[str] = field(default_factory=list)


class Backfill:
    """Creates the planned runs as capacity frees up, and reports when all have finished."""

    def __init__(
        self,
        engine: Engine,
        dag_id: str,
        plan: list[DagRunInfo],
        *,
        max_active_runs: int,
        reset_dagruns: bool = False,
        rerun_failed_tasks: bool = False,
        on_progress: Callable[[BackfillResult], None] | None = None,
    ) -> None:
        self.engine = engine
        self.dag_id = dag_id
        self.pending = deque(plan)
        self.max_active_runs = max(1, max_active_runs)
        self.reset_dagruns = reset_dagruns
        self.rerun_failed_tasks = rerun_failed_tasks
        self.on_progress = on_progress
        self.scope: set[RunKey] = set()
        self.result = BackfillResult(planned=list(plan))

    def step(self) -> bool:
        """Feed runs while under the limit; True once every run of the backfill has finished."""
        with self.engine.begin() as conn:
            states = self._states(conn)
            active = sum(1 for state in states.values() if state in ("queued", "running"))
            created = False
            while self.pending and active < self.max_active_runs:
                info = self.pending.popleft()
                if self._start_one(conn, info):
                    active += 1
                    created = True
            states = self._states(conn)
        self.result.runs = {key: states.get(key, "queued") for key in self.scope}
        if created:
            notify_scheduler()
        if self.on_progress is not None:
            self.on_progress(self.result)
        return not self.pending and all(state in ("success", "failed") for state in self.result.runs.values())

    def _states(self, conn: Connection) -> dict[RunKey, str]:
        if not self.scope:
            return {}
        rows = conn.execute(
            select(DagRun.run_id, DagRun.state).where(
                DagRun.dag_id == self.dag_id, DagRun.run_id.in_([run_id for _, run_id in self.scope])
            )
        )
        return {(self.dag_id, row.run_id): row.state for row in rows}

    def _start_one(self, conn: Connection, info: DagRunInfo) -> bool:
        existing = conn.execute(
            select(DagRun.run_id, DagRun.state).where(
                DagRun.dag_id == self.dag_id, DagRun.logical_date == info.logical_date
            )
        ).first()
        if existing is not None:
            if self.reset_dagruns:
                conn.execute(
                    delete(DagRun).where(DagRun.dag_id == self.dag_id, DagRun.run_id == existing.run_id)
                )
            elif self.rerun_failed_tasks and existing.state == DagRunState.FAILED.value:
                self._rerun_failed(conn, existing.run_id)
                self.scope.add((self.dag_id, existing.run_id))
                return True
            else:
                self.result.skipped_existing.append(existing.run_id)
                return False
        serialized_id, dag = latest_serialized(conn, self.dag_id)
        _, run_id = create_dag_run(
            conn,
            dag,
            serialized_id,
            run_type=DagRunType.BACKFILL,
            logical_date=info.logical_date,
            data_interval=info.data_interval,
            run_after=info.run_after,
            triggered_by="backfill",
        )
        self.scope.add((self.dag_id, run_id))
        return True

    def _rerun_failed(self, conn: Connection, run_id: str) -> None:
        """Failed task instances start over with their full retries, as a clear does."""
        _, dag = latest_serialized(conn, self.dag_id)
        failed = conn.execute(
            select(TaskInstance.id, TaskInstance.task_id, TaskInstance.try_number).where(
                TaskInstance.dag_id == self.dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.state.in_(FAILED_TI_STATES),
            )
        ).all()
        for row in failed:
            task = dag.task_dict.get(row.task_id)
            retries = task.retries if task is not None else 0
            conn.execute(
                update(TaskInstance)
                .where(TaskInstance.id == row.id)
                .values(state=None, max_tries=row.try_number + retries, next_retry_at=None)
            )
        conn.execute(
            update(DagRun)
            .where(DagRun.dag_id == self.dag_id, DagRun.run_id == run_id)
            .values(state=DagRunState.QUEUED.value, end_date=None)
        )


def scheduler_is_running(engine: Engine, within: timedelta = timedelta(seconds=30)) -> bool:
    age = heartbeat_age(engine)
    return age is not None and age < within


def drive_with_external_scheduler(backfill: Backfill, interval: float = 0.2) -> None:
    while not backfill.step():
        time.sleep(interval)
