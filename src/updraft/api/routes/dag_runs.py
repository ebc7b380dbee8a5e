"""``/dags/{dag_id}/dagRuns``: list, read, trigger, mark, clear and delete DAG runs (Airflow 3).

``~`` as the dag_id lists runs of every DAG. Triggering goes through
``updraft.core.dag_admin.trigger_dag`` (conf checked against the DAG's params), clearing through
``updraft.core.clear.clear_task_instances``; both wake the scheduler after committing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import Table, delete, update

from updraft.api.audit import record_event
from updraft.api.routes.deps import (
    Body,
    Conn,
    Limit,
    Offset,
    apply_order,
    bad_request,
    conflict,
    count_of,
    not_found,
)
from updraft.api.routes.lookups import require_dag, run_query, run_row
from updraft.api.routes.ti_common import TI, TaskInstanceCollectionResponse, ti_query, ti_response
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core import dag_admin
from updraft.core.clear import clear_task_instances
from updraft.core.dag_runs import DagNotStored, DagRunExists
from updraft.core.db.models import DagModel, DagRun, SerializedDagModel
from updraft.core.mark_run import mark_run
from updraft.core.scheduler.wakeup import notify_scheduler
from updraft.core.state_machine import InvalidStateTransition
from updraft.sdk.exceptions import ParamValidationError

router = APIRouter(tags=["DagRun"])
_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_DAG: Table = DagModel.__table__  # type: ignore[assignment]
_SD: Table = SerializedDagModel.__table__  # type: ignore[assignment]
_ORDER = {
    "id": _RUN.c.id,
    "dag_id": _RUN.c.dag_id,
    "run_id": _RUN.c.run_id,
    "dag_run_id": _RUN.c.run_id,
    "state": _RUN.c.state,
    "logical_date": _RUN.c.logical_date,
    "run_after": _RUN.c.run_after,
    "start_date": _RUN.c.start_date,
    "end_date": _RUN.c.end_date,
    "queued_at": _RUN.c.queued_at,
    "run_type": _RUN.c.run_type,
}


class DagVersionResponse(BaseModel):
    """A stored serialized version of a DAG; ``id`` is the ``serialized_dag`` row's key as a UUID."""

    id: UUID
    version_number: int
    dag_id: str
    dag_display_name: str
    bundle_name: str | None = None
    bundle_version: str | None = None
    bundle_url: str | None = None
    created_at: datetime


class DAGRunResponse(BaseModel):
    dag_run_id: str
    dag_id: str
    logical_date: datetime | None
    queued_at: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_after: datetime | None
    last_scheduling_decision: datetime | None
    run_type: str
    state: str
    triggered_by: str | None
    conf: dict[str, Any] | None
    note: str | None
    dag_display_name: str
    dag_versions: list[DagVersionResponse]


class DAGRunCollectionResponse(BaseModel):
    dag_runs: list[DAGRunResponse]
    total_entries: int


class TriggerDAGRunPostBody(Body):
    dag_run_id: str | None = None
    logical_date: datetime | None = None
    run_after: datetime | None = None
    conf: dict[str, Any] | None = None
    note: str | None = None


class DAGRunPatchBody(Body):
    state: Literal["queued", "success", "failed"] | None = None
    note: str | None = None


class DAGRunClearBody(Body):
    dry_run: bool = True
    only_failed: bool = False
    #: Queuing only the tasks a newer DAG version added is not supported: True is a 400.
    only_new: bool = False
    #: Cleared task instances always take the latest stored DAG version, so any value means that.
    run_on_latest_version: bool | None = None
    #: Set as the run's note when the clear is not a dry run.
    note: str | None = Field(default=None, max_length=1000)


def run_response(row: Any) -> DAGRunResponse:
    duration = None
    if row.start_date is not None and row.end_date is not None:
        duration = (row.end_date - row.start_date).total_seconds()
    return DAGRunResponse(
        dag_run_id=row.run_id,
        dag_id=row.dag_id,
        logical_date=row.logical_date,
        queued_at=row.queued_at,
        start_date=row.start_date,
        end_date=row.end_date,
        duration=duration,
        data_interval_start=row.data_interval_start,
        data_interval_end=row.data_interval_end,
        run_after=row.run_after,
        last_scheduling_decision=row.last_scheduling_decision,
        run_type=row.run_type,
        state=row.state,
        triggered_by=row.triggered_by,
        conf=row.conf,
        note=row.note,
        dag_display_name=row.dag_id,
        dag_versions=_versions(row),
    )


def _versions(row: Any) -> list[DagVersionResponse]:
    if row.serialized_dag_id is None:
        return []
    return [
        DagVersionResponse(
            id=UUID(int=row.serialized_dag_id),
            version_number=row.dag_version_number,
            dag_id=row.dag_id,
            dag_display_name=row.dag_id,
            created_at=row.dag_version_created_at,
        )
    ]


@router.get("/dags/{dag_id}/dagRuns")
def get_dag_runs(
    dag_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.RUNS_READ))],
    limit: Limit = 50,
    offset: Offset = 0,
    state: Annotated[list[str] | None, Query()] = None,
    run_type: Annotated[list[str] | None, Query()] = None,
    logical_date_gte: datetime | None = None,
    logical_date_lte: datetime | None = None,
    run_after_gte: datetime | None = None,
    run_after_lte: datetime | None = None,
    start_date_gte: datetime | None = None,
    start_date_lte: datetime | None = None,
    end_date_gte: datetime | None = None,
    end_date_lte: datetime | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> DAGRunCollectionResponse:
    """Runs of one DAG, or of every DAG with ``~``; newest id last unless ``order_by`` says so."""
    query = run_query()
    if dag_id != "~":
        require_dag(conn, dag_id)
        query = query.where(_RUN.c.dag_id == dag_id)
    if state:
        query = query.where(_RUN.c.state.in_(state))
    if run_type:
        query = query.where(_RUN.c.run_type.in_(run_type))
    ranges = (
        (_RUN.c.logical_date, logical_date_gte, logical_date_lte),
        (_RUN.c.run_after, run_after_gte, run_after_lte),
        (_RUN.c.start_date, start_date_gte, start_date_lte),
        (_RUN.c.end_date, end_date_gte, end_date_lte),
    )
    for column, low, high in ranges:
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column <= high)
    total = count_of(conn, query)
    rows = conn.execute(apply_order(query, order_by, _ORDER, ["id"]).limit(limit).offset(offset)).all()
    return DAGRunCollectionResponse(dag_runs=[run_response(row) for row in rows], total_entries=total)


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}")
def get_dag_run(
    dag_id: str,
    dag_run_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.RUNS_READ))],
) -> DAGRunResponse:
    return run_response(run_row(conn, dag_id, dag_run_id))


@router.post("/dags/{dag_id}/dagRuns")
def trigger_dag_run(
    dag_id: str,
    body: TriggerDAGRunPostBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.RUNS_TRIGGER))],
) -> DAGRunResponse:
    """Create a manual run (queued). 400 for a conf that does not match the params or a bad
    run_id, 409 when the run_id or logical date is taken."""
    require_dag(conn, dag_id)
    try:
        row = dag_admin.trigger_dag(
            conn,
            dag_id,
            conf=body.conf,
            run_id=body.dag_run_id,
            logical_date=body.logical_date,
            replace_microseconds=False,
            triggered_by="rest_api",
        )
    except DagRunExists as exc:
        raise conflict(str(exc)) from None
    except (ParamValidationError, dag_admin.DagAdminError, DagNotStored) as exc:
        raise bad_request(str(exc)) from None
    if body.note is not None:
        conn.execute(update(_RUN).where(_RUN.c.id == row["id"]).values(note=body.note))
    extra = {"conf": body.conf or {}}
    record_event(conn, user, request, "trigger_dag_run", dag_id=dag_id, run_id=row["run_id"], extra=extra)
    conn.commit()
    notify_scheduler()
    return run_response(run_row(conn, dag_id, row["run_id"]))


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}")
def patch_dag_run(
    dag_id: str,
    dag_run_id: str,
    body: DAGRunPatchBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.RUNS_EDIT))],
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> DAGRunResponse:
    """Mark a run success, failed or queued, and/or set its note (``update_mask`` picks which)."""
    row = run_row(conn, dag_id, dag_run_id)
    fields = set(update_mask) if update_mask else set(body.model_fields_set)
    unknown = sorted(fields - {"state", "note"})
    if unknown:
        raise bad_request(f"update_mask: only 'state' and 'note' can be updated, not {', '.join(unknown)}")
    if "state" in fields:
        if body.state is None:
            raise bad_request("state: give one of queued, success, failed")
        try:
            mark_run(conn, dag_id, dag_run_id, row.state, body.state)
        except InvalidStateTransition as exc:
            raise conflict(str(exc)) from None
    if "note" in fields:
        conn.execute(update(_RUN).where(_RUN.c.id == row.id).values(note=body.note))
    extra = body.model_dump(include=fields)
    record_event(conn, user, request, "patch_dag_run", dag_id=dag_id, run_id=dag_run_id, extra=extra)
    conn.commit()
    if "state" in fields:
        notify_scheduler()
    return run_response(run_row(conn, dag_id, dag_run_id))


@router.post("/dags/{dag_id}/dagRuns/{dag_run_id}/clear", response_model=None)
def clear_dag_run(
    dag_id: str,
    dag_run_id: str,
    body: DAGRunClearBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.RUNS_EDIT))],
) -> DAGRunResponse | TaskInstanceCollectionResponse:
    """Clear the run's task instances; with ``dry_run`` (the default) only list what would be."""
    run_row(conn, dag_id, dag_run_id)
    if body.only_new:
        raise bad_request(
            "only_new: queuing only the tasks a newer DAG version added is not supported; "
            "clear the run (only_new=false) to run its tasks again"
        )
    try:
        cleared = clear_task_instances(
            conn, dag_id, run_id=dag_run_id, only_failed=body.only_failed, dry_run=body.dry_run
        )
    except DagNotStored as exc:
        raise not_found(str(exc)) from None
    if body.dry_run:  # the task instances that would be cleared, as they are now
        wanted = {(ti.task_id, ti.map_index) for ti in cleared}
        rows = conn.execute(ti_query().where(TI.c.dag_id == dag_id, TI.c.run_id == dag_run_id)).all()
        items = [ti_response(row) for row in rows if (row.task_id, row.map_index) in wanted]
        return TaskInstanceCollectionResponse(task_instances=items, total_entries=len(items))
    if body.note is not None:
        conn.execute(
            update(_RUN).where(_RUN.c.dag_id == dag_id, _RUN.c.run_id == dag_run_id).values(note=body.note)
        )
    extra = {"only_failed": body.only_failed, "cleared": len(cleared)}
    record_event(conn, user, request, "clear_dag_run", dag_id=dag_id, run_id=dag_run_id, extra=extra)
    conn.commit()
    notify_scheduler()
    return run_response(run_row(conn, dag_id, dag_run_id))


@router.delete("/dags/{dag_id}/dagRuns/{dag_run_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dag_run(
    dag_id: str,
    dag_run_id: str,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.RUNS_EDIT))],
) -> Response:
    """Delete a run; its task instances, XComs and try history go with it (foreign keys cascade)."""
    row = run_row(conn, dag_id, dag_run_id)
    conn.execute(delete(_RUN).where(_RUN.c.id == row.id))
    record_event(conn, user, request, "delete_dag_run", dag_id=dag_id, run_id=dag_run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
