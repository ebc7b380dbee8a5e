"""``.../taskInstances``: list, read, mark and clear task instances (Airflow 3 shapes).

``~`` as dag_id and/or dag_run_id lists across DAGs and runs. Clearing goes through
``updraft.core.clear.clear_task_instances``; marking a state through
``updraft.core.state_machine`` with ``manual=True``. Both wake the scheduler after committing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection, bindparam, select, update

from updraft.api.audit import record_event
from updraft.api.routes.deps import (
    Body,
    Conn,
    Int32,
    Limit,
    Offset,
    apply_order,
    bad_request,
    conflict,
    count_of,
    not_found,
)
from updraft.api.routes.lookups import require_dag, run_row
from updraft.api.routes.ti_common import (
    RUN,
    TI,
    TaskInstanceCollectionResponse,
    TaskInstanceResponse,
    ti_query,
    ti_response,
    ti_row,
)
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core.clear import ClearError, clear_task_instances, select_task_ids
from updraft.core.dag_runs import DagNotStored, latest_serialized
from updraft.core.db.types import utcnow
from updraft.core.scheduler.wakeup import notify_scheduler
from updraft.core.state_machine import InvalidStateTransition, check_ti_transition
from updraft.sdk.states import TaskInstanceState

router = APIRouter(tags=["Task Instance"])
_ORDER = {
    "id": TI.c.id,
    "task_id": TI.c.task_id,
    "dag_id": TI.c.dag_id,
    "run_id": TI.c.run_id,
    "dag_run_id": TI.c.run_id,
    "map_index": TI.c.map_index,
    "state": TI.c.state,
    "start_date": TI.c.start_date,
    "end_date": TI.c.end_date,
    "duration": TI.c.duration,
    "pool": TI.c.pool,
    "queue": TI.c.queue,
    "priority_weight": TI.c.priority_weight,
    "try_number": TI.c.try_number,
    "logical_date": RUN.c.logical_date,
    "run_after": RUN.c.run_after,
}


class ClearTaskInstancesBody(Body):
    dry_run: bool = True
    start_date: datetime | None = None
    end_date: datetime | None = None
    only_failed: bool = True
    only_running: bool = False
    reset_dag_runs: bool = True  # finished runs with a cleared task always go back to queued
    task_ids: list[str] | None = None
    dag_run_id: str | None = None
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False
    prevent_running_task: bool = False  # refuse (400) rather than clear a running task instance
    # Follow ExternalTaskMarkers into the DAGs they point at (Airflow 2's "recursive" clear).
    include_downstream_dags: bool = False


class PatchTaskInstanceBody(Body):
    new_state: Literal["success", "failed", "skipped"] | None = None
    note: str | None = None
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False


def _state_filter(states: list[str]) -> Any:
    wanted = [s for s in states if s not in ("none", "null", "")]
    condition: Any = TI.c.state.in_(wanted)
    if len(wanted) < len(states):
        condition = condition | TI.c.state.is_(None)
    return condition


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances")
def get_task_instances(
    dag_id: str,
    dag_run_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))],
    limit: Limit = 50,
    offset: Offset = 0,
    state: Annotated[list[str] | None, Query()] = None,
    task_id: str | None = None,
    task_display_name_pattern: str | None = None,
    map_index: Annotated[list[Int32] | None, Query()] = None,
    pool: Annotated[list[str] | None, Query()] = None,
    queue: Annotated[list[str] | None, Query()] = None,
    logical_date_gte: datetime | None = None,
    logical_date_lte: datetime | None = None,
    start_date_gte: datetime | None = None,
    start_date_lte: datetime | None = None,
    end_date_gte: datetime | None = None,
    end_date_lte: datetime | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> TaskInstanceCollectionResponse:
    """Task instances of one run, or across runs/DAGs with ``~``."""
    query = ti_query()
    if dag_id != "~":
        require_dag(conn, dag_id)
        query = query.where(TI.c.dag_id == dag_id)
    if dag_run_id != "~":
        if dag_id != "~":
            run_row(conn, dag_id, dag_run_id)
        query = query.where(TI.c.run_id == dag_run_id)
    if state:
        query = query.where(_state_filter(state))
    if task_id:
        query = query.where(TI.c.task_id == task_id)
    if task_display_name_pattern:
        query = query.where(TI.c.task_id.ilike(f"%{task_display_name_pattern}%"))
    for column, values in ((TI.c.map_index, map_index), (TI.c.pool, pool), (TI.c.queue, queue)):
        if values:
            query = query.where(column.in_(values))
    ranges = (
        (RUN.c.logical_date, logical_date_gte, logical_date_lte),
        (TI.c.start_date, start_date_gte, start_date_lte),
        (TI.c.end_date, end_date_gte, end_date_lte),
    )
    for column, low, high in ranges:
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column <= high)
    total = count_of(conn, query)
    ordered = apply_order(query, order_by, _ORDER, ["map_index", "task_id"] if order_by is None else ["id"])
    rows = conn.execute(ordered.limit(limit).offset(offset)).all()
    return TaskInstanceCollectionResponse(task_instances=[ti_response(r) for r in rows], total_entries=total)


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}")
def get_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))],
) -> TaskInstanceResponse:
    return ti_response(ti_row(conn, dag_id, dag_run_id, task_id, -1))


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}")
def get_mapped_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: Int32,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))],
) -> TaskInstanceResponse:
    return ti_response(ti_row(conn, dag_id, dag_run_id, task_id, map_index))


def _patch(
    conn: Connection,
    user: CurrentUser,
    request: Request,
    key: tuple[str, str, str, int],
    body: PatchTaskInstanceBody,
    update_mask: list[str] | None,
) -> TaskInstanceCollectionResponse:
    dag_id, run_id, task_id, map_index = key
    row = ti_row(conn, dag_id, run_id, task_id, map_index)
    fields = set(update_mask) if update_mask else set(body.model_fields_set) & {"new_state", "note"}
    unknown = sorted(fields - {"new_state", "note"})
    if unknown:
        raise bad_request(
            f"update_mask: only 'new_state' and 'note' can be updated, not {', '.join(unknown)}"
        )
    if body.include_future or body.include_past:
        raise bad_request("include_future/include_past: marking other runs is not supported; mark each run")
    keys = [(task_id, map_index)]
    if "new_state" in fields:
        if body.new_state is None:
            raise bad_request("new_state: give one of success, failed, skipped")
        _, dag = latest_serialized(conn, dag_id)
        if task_id not in dag.task_dict:
            raise not_found(f"task {task_id!r} in the latest version of DAG {dag_id!r}")
        relatives = select_task_ids(
            dag, f"^{re.escape(task_id)}$", upstream=body.include_upstream, downstream=body.include_downstream
        ) - {task_id}
        others = conn.execute(
            select(TI.c.task_id, TI.c.map_index).where(
                TI.c.dag_id == dag_id, TI.c.run_id == run_id, TI.c.task_id.in_(sorted(relatives))
            )
        ).all()
        keys += [(r.task_id, r.map_index) for r in others]
        _set_states(conn, dag_id, run_id, keys, body.new_state)
    if "note" in fields:
        conn.execute(update(TI).where(TI.c.id == row.id).values(note=body.note))
    extra = {"new_state": body.new_state, "note": body.note, "affected": len(keys)}
    record_event(
        conn,
        user,
        request,
        "patch_task_instance",
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        extra=extra,
    )
    conn.commit()
    if "new_state" in fields:
        notify_scheduler()
    rows = conn.execute(ti_query().where(TI.c.dag_id == dag_id, TI.c.run_id == run_id)).all()
    wanted = set(keys)
    items = [ti_response(r) for r in rows if (r.task_id, r.map_index) in wanted]
    return TaskInstanceCollectionResponse(task_instances=items, total_entries=len(items))


def _set_states(conn: Connection, dag_id: str, run_id: str, keys: list[tuple[str, int]], state: str) -> None:
    """Mark these task instances by hand; 409 naming the first refused transition."""
    wanted = set(keys)
    rows = conn.execute(
        select(TI.c.id, TI.c.task_id, TI.c.map_index, TI.c.state, TI.c.start_date)
        .where(TI.c.dag_id == dag_id, TI.c.run_id == run_id, TI.c.task_id.in_(sorted({k[0] for k in keys})))
        .with_for_update()
    ).all()
    now = utcnow()
    params = []
    for row in rows:
        if (row.task_id, row.map_index) not in wanted:
            continue
        what = f"task {row.task_id!r} (map index {row.map_index}) of run {run_id!r} in DAG {dag_id!r}"
        try:
            check_ti_transition(row.state, state, what=what, manual=True)
        except InvalidStateTransition as exc:
            raise conflict(str(exc)) from None
        params.append({"b_id": row.id, "b_state": state, "b_start": row.start_date or now})
    if params:
        conn.execute(
            update(TI)
            .where(TI.c.id == bindparam("b_id"))
            .values(
                state=bindparam("b_state"), start_date=bindparam("b_start"), end_date=now, updated_at=now
            ),
            params,
        )


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}")
def patch_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    body: PatchTaskInstanceBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_EDIT))],
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> TaskInstanceCollectionResponse:
    """Mark a task instance (and, on request, its relatives in the run) success, failed or skipped,
    and/or set its note."""
    return _patch(conn, user, request, (dag_id, dag_run_id, task_id, -1), body, update_mask)


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}")
def patch_mapped_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: Int32,
    body: PatchTaskInstanceBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_EDIT))],
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> TaskInstanceCollectionResponse:
    return _patch(conn, user, request, (dag_id, dag_run_id, task_id, map_index), body, update_mask)


@router.post("/dags/{dag_id}/clearTaskInstances")
def post_clear_task_instances(
    dag_id: str,
    body: ClearTaskInstancesBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_EDIT))],
) -> TaskInstanceCollectionResponse:
    """Clear task instances so they run again; with ``dry_run`` (the default) only list them."""
    require_dag(conn, dag_id)
    start, end, run_id = body.start_date, body.end_date, body.dag_run_id
    if run_id is not None:
        run = run_row(conn, dag_id, run_id)
        if body.include_past or body.include_future:
            if run.logical_date is None:
                raise bad_request(f"include_past/include_future: run {run_id!r} has no logical date")
            start = None if body.include_past else run.logical_date
            end = None if body.include_future else run.logical_date
            run_id = None
    regex = None
    if body.task_ids is not None:
        regex = "^(" + "|".join(re.escape(t) for t in body.task_ids) + ")$" if body.task_ids else "^$"
    options: dict[str, Any] = {
        "task_regex": regex,
        "start_date": start,
        "end_date": end,
        "run_id": run_id,
        "upstream": body.include_upstream,
        "downstream": body.include_downstream,
        "only_failed": body.only_failed,
        "only_running": body.only_running,
        "dependent_dags": body.include_downstream_dags,
    }
    try:
        if body.prevent_running_task and not body.dry_run:
            running = [
                f"{ti.task_id} of run {ti.run_id!r}"
                for ti in clear_task_instances(conn, dag_id, dry_run=True, **options)
                if ti.state == TaskInstanceState.RUNNING.value
            ]
            if running:
                raise bad_request(
                    f"prevent_running_task: DAG {dag_id!r} has running task instances: {', '.join(running)}"
                )
        picked = clear_task_instances(conn, dag_id, dry_run=body.dry_run, **options)
    except DagNotStored as exc:
        raise not_found(str(exc)) from None
    except ClearError as exc:
        raise bad_request(str(exc)) from None
    before = {(ti.dag_id, ti.run_id, ti.task_id, ti.map_index): ti.state for ti in picked}
    if not body.dry_run and picked:
        extra = body.model_dump(mode="json", exclude_defaults=True) | {"cleared": len(picked)}
        record_event(
            conn, user, request, "clear_task_instances", dag_id=dag_id, run_id=body.dag_run_id, extra=extra
        )
        conn.commit()
        notify_scheduler()
    by_key: dict[tuple[str, str, str, int], Any] = {}
    for other_dag in sorted({key[0] for key in before}):  # more than one with include_downstream_dags
        mine = [key for key in before if key[0] == other_dag]
        rows = conn.execute(
            ti_query().where(
                TI.c.dag_id == other_dag,
                TI.c.run_id.in_(sorted({k[1] for k in mine})),
                TI.c.task_id.in_(sorted({k[2] for k in mine})),
            )
        ).all()
        by_key.update({(r.dag_id, r.run_id, r.task_id, r.map_index): r for r in rows})
    items = [ti_response(by_key[key]) for key in before if key in by_key]
    return TaskInstanceCollectionResponse(task_instances=items, total_entries=len(items))
