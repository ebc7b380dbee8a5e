"""Writing DAG runs and task instances to the metadata DB, one statement per batch.

Callers pass a ``Connection`` inside their own transaction (``engine.begin()``); these
functions never commit.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, delete, insert, or_, select, update

from updraft.core.db.asset_events import record_asset_events
from updraft.core.db.models import DagRun, TaskInstance, TaskInstanceHistory, TaskReschedule
from updraft.core.db.types import utcnow
from updraft.core.runtime.attempt import AttemptOutcome
from updraft.core.runtime.xcom_store import XComStore
from updraft.sdk.abstractoperator import AbstractOperator
from updraft.sdk.assets import asset_outlets
from updraft.sdk.states import TaskInstanceState

TI_TABLE: Table = TaskInstance.__table__  # type: ignore[assignment]
HOSTNAME = socket.gethostname()


@dataclass
class TIRow:
    """The columns of a new task instance row."""

    task_id: str
    map_index: int
    max_tries: int
    operator: str
    pool: str
    pool_slots: int
    queue: str | None
    priority_weight: int


def ti_row_for(task: Any, priority_weight: int, map_index: int = -1) -> TIRow:
    """The row of a new task instance of ``task`` (an authoring or a serialized task)."""
    return TIRow(
        task_id=task.task_id,
        map_index=map_index,
        max_tries=task.retries,  # type: ignore[attr-defined]
        operator=task.operator_name,  # type: ignore[attr-defined]
        pool=task.pool,  # type: ignore[attr-defined]
        pool_slots=task.pool_slots,  # type: ignore[attr-defined]
        queue=task.queue,  # type: ignore[attr-defined]
        priority_weight=priority_weight,
    )


def ti_key(dag_id: str, run_id: str, task_id: str, map_index: int) -> tuple[Any, ...]:
    """The WHERE conditions that pick one task instance."""
    return (
        TaskInstance.dag_id == dag_id,
        TaskInstance.run_id == run_id,
        TaskInstance.task_id == task_id,
        TaskInstance.map_index == map_index,
    )


def delete_runs(conn: Connection, dag_id: str, run_id: str, logical_date: datetime | None) -> int:
    """Delete a DAG's runs with this run_id or logical date (their TIs and XComs cascade)."""
    condition = DagRun.run_id == run_id
    if logical_date is not None:
        condition = or_(condition, DagRun.logical_date == logical_date)
    return conn.execute(delete(DagRun).where(DagRun.dag_id == dag_id, condition)).rowcount


def insert_tis(
    conn: Connection, dag_id: str, run_id: str, rows: Iterable[TIRow], state: str | None = None
) -> None:
    values = [
        {
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": r.task_id,
            "map_index": r.map_index,
            "try_number": 0,
            "max_tries": r.max_tries,
            "state": state,
            "operator": r.operator,
            "pool": r.pool,
            "pool_slots": r.pool_slots,
            "queue": r.queue,
            "priority_weight": r.priority_weight,
        }
        for r in rows
    ]
    if values:
        conn.execute(insert(TaskInstance), values)


def set_states(
    conn: Connection,
    dag_id: str,
    run_id: str,
    changes: Iterable[tuple[str, int, str | None]],
    end_date: datetime | None = None,
    *,
    count_try: bool = False,
) -> None:
    """Set many task instances' states in one executemany (skips, upstream_failed).

    ``count_try`` adds one to their try_number: a task marked successful without running (an
    EmptyOperator) counts a try, as in Airflow; one skipped or upstream_failed does not.
    """
    params = [{"b_task": t, "b_index": m, "b_state": s} for t, m, s in changes]
    if not params:
        return
    now = end_date or utcnow()
    values: dict[str, Any] = dict(
        state=bindparam("b_state"), start_date=now, end_date=now, duration=0.0, updated_at=now
    )
    if count_try:
        values["try_number"] = TI_TABLE.c.try_number + 1
    conn.execute(
        update(TI_TABLE)
        .where(
            TI_TABLE.c.dag_id == dag_id,
            TI_TABLE.c.run_id == run_id,
            TI_TABLE.c.task_id == bindparam("b_task"),
            TI_TABLE.c.map_index == bindparam("b_index"),
        )
        .values(**values),
        params,
    )


def mark_running(
    conn: Connection, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int, start: datetime
) -> None:
    conn.execute(
        update(TaskInstance)
        .where(
            *ti_key(dag_id, run_id, task_id, map_index),
        )
        .values(
            state="running",
            try_number=try_number,
            start_date=start,
            end_date=None,
            duration=None,
            hostname=HOSTNAME,
            pid=os.getpid(),
            next_retry_at=None,
            reschedule_at=None,
            updated_at=start,
        )
    )


def restart_if_cleared(
    conn: Connection, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int, end: datetime
) -> None:
    """A running instance that was cleared meanwhile is ``restarting``: its attempt is over, so it
    goes back to none and the scheduler runs it again (its retries were restored by the clear)."""
    conn.execute(
        update(TaskInstance)
        .where(
            *ti_key(dag_id, run_id, task_id, map_index),
            TaskInstance.try_number == try_number,
            TaskInstance.state == TaskInstanceState.RESTARTING.value,
        )
        .values(state=None, end_date=end, next_retry_at=None, updated_at=end)
    )


def record_finish(
    conn: Connection,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
    *,
    try_number: int,
    state: str,
    start: datetime,
    end: datetime,
    next_retry_at: datetime | None,
    error: str | None,
    operator: str | None,
    pool: str | None,
    rendered_fields: dict[str, Any] | None,
    cpu_time_s: float | None = None,
    peak_rss_bytes: int | None = None,
    reschedule_at: datetime | None = None,
    from_states: tuple[str, ...] = ("running",),
) -> bool:
    """The attempt's final state on the task instance, plus its row in the try history.

    Only an instance still in ``from_states`` at this try is changed: if it was cleared, marked
    or timed out meanwhile, the late outcome is dropped (as Airflow does) and False is returned.

    A sensor's poke that ended ``up_for_reschedule`` did not finish its try (the next poke runs with
    the same try_number): it gets a ``task_reschedule`` row instead of a history row, and the task
    instance's ``reschedule_at`` says when it may run again.
    """
    duration = (end - start).total_seconds()
    changed = conn.execute(
        update(TaskInstance)
        .where(
            *ti_key(dag_id, run_id, task_id, map_index),
            TaskInstance.try_number == try_number,
            TaskInstance.state.in_(from_states),
        )
        .values(
            state=state,
            end_date=end,
            duration=duration,
            next_retry_at=next_retry_at,
            reschedule_at=reschedule_at,
            rendered_fields=rendered_fields,
            cpu_time_s=cpu_time_s,
            peak_rss_bytes=peak_rss_bytes,
            updated_at=end,
        )
    ).rowcount
    if changed != 1:
        restart_if_cleared(conn, dag_id, run_id, task_id, map_index, try_number, end)
        return False
    if state == TaskInstanceState.UP_FOR_RESCHEDULE.value:
        if reschedule_at is None:
            raise ValueError(f"task {task_id!r} in {dag_id}/{run_id}: up_for_reschedule needs reschedule_at")
        conn.execute(
            insert(TaskReschedule),
            {
                "dag_id": dag_id,
                "run_id": run_id,
                "task_id": task_id,
                "map_index": map_index,
                "try_number": try_number,
                "start_date": start,
                "end_date": end,
                "duration": duration,
                "reschedule_date": reschedule_at,
            },
        )
        return True
    conn.execute(
        insert(TaskInstanceHistory),
        {
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": task_id,
            "map_index": map_index,
            "try_number": try_number,
            "state": state,
            "start_date": start,
            "end_date": end,
            "duration": duration,
            "hostname": HOSTNAME,
            "pid": os.getpid(),
            "error": error,
            "operator": operator,
            "pool": pool,
            "cpu_time_s": cpu_time_s,
            "peak_rss_bytes": peak_rss_bytes,
        },
    )
    return True


def expand_task(conn: Connection, dag_id: str, run_id: str, row: TIRow, count: int) -> None:
    """Replace a mapped task's placeholder (map_index -1) with instances 0..count-1."""
    conn.execute(
        delete(TaskInstance).where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == row.task_id,
            TaskInstance.map_index == -1,
        )
    )
    rows = [TIRow(**{**row.__dict__, "map_index": index}) for index in range(count)]
    insert_tis(conn, dag_id, run_id, rows)


def finish_run(conn: Connection, dag_id: str, run_id: str, state: str, end: datetime) -> None:
    conn.execute(
        update(DagRun)
        .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        .values(state=state, end_date=end)
    )


def previous_success(conn: Connection, dag_id: str, before: datetime | None) -> dict[str, datetime | None]:
    """Dates of the latest successful run before ``before`` (for ``prev_*_success`` in templates)."""
    empty: dict[str, datetime | None] = {
        "prev_data_interval_start_success": None,
        "prev_data_interval_end_success": None,
        "prev_start_date_success": None,
        "prev_end_date_success": None,
    }
    if before is None:
        return empty
    row = conn.execute(
        select(DagRun.data_interval_start, DagRun.data_interval_end, DagRun.start_date, DagRun.end_date)
        .where(and_(DagRun.dag_id == dag_id, DagRun.state == "success", DagRun.logical_date < before))
        .order_by(DagRun.logical_date.desc())
        .limit(1)
    ).first()
    if row is None:
        return empty
    return {
        "prev_data_interval_start_success": row[0],
        "prev_data_interval_end_success": row[1],
        "prev_start_date_success": row[2],
        "prev_end_date_success": row[3],
    }


def record_outcome(
    conn: Connection,
    xcoms: XComStore,
    dag_id: str,
    run_id: str,
    task: AbstractOperator,
    map_index: int,
    try_number: int,
    outcome: AttemptOutcome,
    skips: Iterable[tuple[str, int, str | None]] = (),
    cpu_time_s: float | None = None,
    peak_rss_bytes: int | None = None,
) -> bool:
    """Everything an attempt leaves behind, in the caller's transaction: the task instance's final
    state, its try-history row, its XComs, the skips it asked for and, when it succeeded, one
    event per asset in its outlets (queued for the DAGs scheduled on those assets).

    Nothing is written if the instance was changed from outside meanwhile (see record_finish).
    """
    recorded = record_finish(
        conn,
        dag_id,
        run_id,
        task.task_id,
        map_index,
        try_number=try_number,
        state=outcome.state.value,
        start=outcome.start_date,
        end=outcome.end_date,
        next_retry_at=outcome.next_retry_at,
        error=outcome.error,
        operator=getattr(task, "operator_name", None),
        pool=getattr(task, "pool", None),
        rendered_fields=outcome.rendered_fields,
        cpu_time_s=cpu_time_s,
        peak_rss_bytes=peak_rss_bytes,
        reschedule_at=outcome.reschedule_at,
    )
    if not recorded:
        return False
    xcoms.write(conn, dag_id, run_id, task.task_id, map_index, outcome.pushed)
    set_states(conn, dag_id, run_id, skips)
    if outcome.state is TaskInstanceState.SUCCESS:
        assets = asset_outlets(getattr(task, "outlets", None))
        record_asset_events(
            conn,
            assets,
            dag_id=dag_id,
            run_id=run_id,
            task_id=task.task_id,
            map_index=map_index,
            timestamp=outcome.end_date,
            extras=outcome.asset_extras,
        )
    return True
