"""Moving DAG runs forward: start queued runs, apply each run's decisions in batches, finish runs.

Per pass: one query for the runs, one for all their task instances, one executemany per kind of
change. Never a query per task instance.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from updraft.core.db.models import DagModel, DagRun, TaskInstance
from updraft.core.executors.workload import DAG_CALLBACK, Workload
from updraft.core.runtime.run_store import TI_TABLE
from updraft.core.scheduler.dag_cache import DagCache
from updraft.core.scheduler.evaluate import FINISHED, TIView, evaluate_run
from updraft.sdk.serialization import SerializedDag
from updraft.sdk.states import DagRunState
from updraft.sdk.states import TaskInstanceState as TI

log = logging.getLogger(__name__)
RunKey = tuple[str, str]


@dataclass
class PassResult:
    finished: list[tuple[RunKey, DagRunState]] = field(default_factory=list)
    callbacks: list[Workload] = field(default_factory=list)
    next_event_at: datetime | None = None
    scheduled: int = 0


def start_queued_runs(
    conn: Connection, cache: DagCache, now: datetime, scope: set[RunKey] | None = None
) -> list[RunKey]:
    """queued -> running, oldest first, while each DAG stays within max_active_runs.

    With a ``scope`` (a backfill), only those runs, whether or not their DAG is paused.
    """
    query = (
        select(DagRun.id, DagRun.dag_id, DagRun.run_id, DagRun.serialized_dag_id)
        .join(DagModel, DagModel.dag_id == DagRun.dag_id)
        .where(DagRun.state == DagRunState.QUEUED.value)
        .order_by(DagRun.run_after, DagRun.id)
    )
    if scope is None:
        query = query.where(DagModel.is_paused.is_(False))
    queued = [row for row in conn.execute(query) if scope is None or (row.dag_id, row.run_id) in scope]
    if not queued:
        return []
    running = dict(
        conn.execute(
            select(DagRun.dag_id, func.count())
            .where(DagRun.state == DagRunState.RUNNING.value, DagRun.dag_id.in_({r.dag_id for r in queued}))
            .group_by(DagRun.dag_id)
        ).all()
    )
    started: list[RunKey] = []
    for row in queued:
        dag = cache.get(conn, row.serialized_dag_id) if row.serialized_dag_id else None
        limit = dag.max_active_runs if dag is not None else 16
        if running.get(row.dag_id, 0) >= limit:
            continue
        running[row.dag_id] = running.get(row.dag_id, 0) + 1
        started.append((row.dag_id, row.run_id))
        conn.execute(
            update(DagRun)
            .where(DagRun.id == row.id, DagRun.state == DagRunState.QUEUED.value)
            .values(state=DagRunState.RUNNING.value, start_date=now, end_date=None)
        )
    return started


def running_runs(conn: Connection, scope: set[RunKey] | None = None) -> list[RunKey]:
    rows = conn.execute(select(DagRun.dag_id, DagRun.run_id).where(DagRun.state == DagRunState.RUNNING.value))
    return [(row.dag_id, row.run_id) for row in rows if scope is None or (row.dag_id, row.run_id) in scope]


def _past_states(
    conn: Connection, dag: SerializedDag, run: object
) -> tuple[dict[tuple[str, int], str | None], bool]:
    """The previous run's task-instance states, for DAGs with depends_on_past tasks."""
    previous = conn.execute(
        select(DagRun.run_id)
        .where(DagRun.dag_id == dag.dag_id, DagRun.logical_date < run.logical_date)  # type: ignore[attr-defined]
        .order_by(DagRun.logical_date.desc())
        .limit(1)
    ).scalar()
    if previous is None:
        return {}, False
    rows = conn.execute(
        select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).where(
            TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == previous
        )
    )
    return {(r.task_id, r.map_index): r.state for r in rows}, True


def process_runs(conn: Connection, cache: DagCache, keys: Iterable[RunKey], now: datetime) -> PassResult:
    """Evaluate the given running runs and write every resulting change."""
    result = PassResult()
    keys = list(keys)
    if not keys:
        return result
    by_dag: dict[str, list[str]] = defaultdict(list)
    for dag_id, run_id in keys:
        by_dag[dag_id].append(run_id)
    runs: list[Any] = []
    tis: dict[RunKey, list[TIView]] = defaultdict(list)
    for dag_id, run_ids in by_dag.items():
        runs.extend(
            conn.execute(
                select(DagRun).where(
                    DagRun.dag_id == dag_id,
                    DagRun.run_id.in_(run_ids),
                    DagRun.state == DagRunState.RUNNING.value,
                )
            ).all()
        )
        for row in conn.execute(
            select(
                TaskInstance.run_id,
                TaskInstance.task_id,
                TaskInstance.map_index,
                TaskInstance.state,
                TaskInstance.try_number,
                TaskInstance.next_retry_at,
                TaskInstance.reschedule_at,
            ).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(run_ids))
        ):
            tis[(dag_id, row.run_id)].append(
                TIView(
                    row.task_id,
                    row.map_index,
                    row.state,
                    row.try_number,
                    row.next_retry_at,
                    row.reschedule_at,
                )
            )
    schedule, skip, upstream_failed = [], [], []
    for run in runs:
        dag = cache.get(conn, run.serialized_dag_id) if run.serialized_dag_id else None
        if dag is None:
            continue
        key = (run.dag_id, run.run_id)
        if _timed_out(dag, run, now):
            _time_out(conn, run, tis[key], now, result)
            continue
        past: dict[tuple[str, int], str | None] = {}
        has_past = False
        if any(t.depends_on_past for t in dag.tasks):
            past, has_past = _past_states(conn, dag, run)
        decision = evaluate_run(dag, tis[key], now, past, has_past)
        schedule += [
            {"b_dag": run.dag_id, "b_run": run.run_id, "b_task": t, "b_index": m, "b_try": n}
            for t, m, n in decision.schedule
        ]
        skip += [
            {"b_dag": run.dag_id, "b_run": run.run_id, "b_task": t, "b_index": m, "b_state": TI.SKIPPED.value}
            for t, m in decision.skip
        ]
        upstream_failed += [
            {
                "b_dag": run.dag_id,
                "b_run": run.run_id,
                "b_task": t,
                "b_index": m,
                "b_state": TI.UPSTREAM_FAILED.value,
            }
            for t, m in decision.upstream_failed
        ]
        if decision.next_event_at and (
            result.next_event_at is None or decision.next_event_at < result.next_event_at
        ):
            result.next_event_at = decision.next_event_at
        if decision.run_state is not None:
            if decision.deadlocked:
                log.warning(
                    "run %s of %s is deadlocked: no task can start; marking it failed", run.run_id, run.dag_id
                )
            _finish_run(conn, dag, run, tis[key], decision.run_state, now, result)
    _write_schedule(conn, schedule, now)
    _write_settled(conn, skip + upstream_failed, now)
    result.scheduled = len(schedule)
    return result


def _key_filter() -> list:
    return [
        TI_TABLE.c.dag_id == bindparam("b_dag"),
        TI_TABLE.c.run_id == bindparam("b_run"),
        TI_TABLE.c.task_id == bindparam("b_task"),
        TI_TABLE.c.map_index == bindparam("b_index"),
    ]


def _write_schedule(conn: Connection, params: list[dict], now: datetime) -> None:
    if params:
        conn.execute(
            update(TI_TABLE)
            .where(*_key_filter())
            .values(
                state=TI.SCHEDULED.value, try_number=bindparam("b_try"), scheduled_dttm=now, updated_at=now
            ),
            params,
        )


def _write_settled(conn: Connection, params: list[dict], now: datetime) -> None:
    if params:
        conn.execute(
            update(TI_TABLE)
            .where(*_key_filter(), TI_TABLE.c.state.is_(None))
            .values(state=bindparam("b_state"), start_date=now, end_date=now, duration=0.0, updated_at=now),
            params,
        )


def _timed_out(dag: SerializedDag, run: object, now: datetime) -> bool:
    start = run.start_date  # type: ignore[attr-defined]
    return bool(dag.dagrun_timeout and start and now - start > dag.dagrun_timeout)


def _time_out(conn: Connection, run: object, tis: list[TIView], now: datetime, result: PassResult) -> None:
    """dagrun_timeout passed: the run fails and its unfinished task instances are skipped."""
    dag_id, run_id = run.dag_id, run.run_id  # type: ignore[attr-defined]
    log.warning("run %s of %s exceeded its dagrun_timeout; marking it failed", run_id, dag_id)
    unfinished = [ti for ti in tis if ti.state not in FINISHED]
    if unfinished:
        conn.execute(
            update(TI_TABLE)
            .where(*_key_filter())
            .values(state=TI.SKIPPED.value, end_date=now, updated_at=now),
            [
                {"b_dag": dag_id, "b_run": run_id, "b_task": ti.task_id, "b_index": ti.map_index}
                for ti in unfinished
            ],
        )
    conn.execute(
        update(DagRun)
        .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        .values(state=DagRunState.FAILED.value, end_date=now)
    )
    result.finished.append(((dag_id, run_id), DagRunState.FAILED))


def _finish_run(
    conn: Connection,
    dag: SerializedDag,
    run: object,
    tis: list[TIView],
    state: DagRunState,
    now: datetime,
    result: PassResult,
) -> None:
    dag_id, run_id = run.dag_id, run.run_id  # type: ignore[attr-defined]
    conn.execute(
        update(DagRun)
        .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id, DagRun.state == DagRunState.RUNNING.value)
        .values(state=state.value, end_date=now)
    )
    result.finished.append(((dag_id, run_id), state))
    wants_callback = (
        dag.has_on_success_callback if state is DagRunState.SUCCESS else dag.has_on_failure_callback
    )
    if wants_callback:
        failed = [ti for ti in tis if ti.state in (TI.FAILED.value, TI.UPSTREAM_FAILED.value)]
        chosen = failed[0] if failed else (tis[-1] if tis else None)
        fileloc = conn.scalar(select(DagModel.fileloc).where(DagModel.dag_id == dag_id)) or dag.fileloc
        result.callbacks.append(
            Workload(
                dag_id=dag_id,
                run_id=run_id,
                task_id=chosen.task_id if chosen else "",
                map_index=chosen.map_index if chosen else -1,
                try_number=chosen.try_number if chosen else 0,
                fileloc=fileloc,
                kind=DAG_CALLBACK,
                reason="success" if state is DagRunState.SUCCESS else "task_failure",
            )
        )
