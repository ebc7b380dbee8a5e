"""``/dags`` and ``/dagSources``: stored DAGs as Airflow 3's public API shows them.

Everything comes from the ``dag`` and ``dag_tag`` rows and the latest serialized version; no DAG
file is imported. Pausing goes through ``updraft.core.dag_admin.set_paused``.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import Connection, Table, func, or_, select

from updraft.api.audit import record_event
from updraft.api.response_cache import StampedCache
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
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core import dag_admin
from updraft.core.dag_runs import DagNotStored, latest_serialized
from updraft.core.db.models import DagCode, DagModel, DagTag
from updraft.core.scheduler.wakeup import notify_scheduler
from updraft.sdk.serialization import SerializedDag, SerializedTask

router = APIRouter(tags=["DAG"])
_PAGES = StampedCache()
_DAG: Table = DagModel.__table__  # type: ignore[assignment]
_TAG: Table = DagTag.__table__  # type: ignore[assignment]
# Timetable summaries of DAGs without a periodic schedule (not backfillable).
_UNSCHEDULED = {"None", "@once", "@continuous", "Asset", ""}
_ORDER = {
    "dag_id": _DAG.c.dag_id,
    "dag_display_name": _DAG.c.dag_id,
    "next_dagrun": _DAG.c.next_dagrun,
    "last_parsed_time": _DAG.c.last_parsed_time,
    "is_paused": _DAG.c.is_paused,
}


class DagTagResponse(BaseModel):
    name: str
    dag_id: str
    dag_display_name: str


class DAGResponse(BaseModel):
    dag_id: str
    dag_display_name: str
    is_paused: bool
    is_active: bool
    is_stale: bool
    last_parsed_time: datetime | None
    fileloc: str | None
    relative_fileloc: str | None
    owners: list[str]
    tags: list[DagTagResponse]
    description: str | None
    timetable_summary: str | None
    timetable_description: str | None
    max_active_tasks: int | None
    max_active_runs: int | None
    has_import_errors: bool
    next_dagrun_logical_date: datetime | None
    next_dagrun_data_interval_start: datetime | None
    next_dagrun_data_interval_end: datetime | None
    next_dagrun_run_after: datetime | None
    file_token: str
    has_task_concurrency_limits: bool
    is_backfillable: bool
    max_consecutive_failed_dag_runs: int
    timetable_partitioned: bool
    timetable_periodic: bool


class DAGCollectionResponse(BaseModel):
    dags: list[DAGResponse]
    total_entries: int


class TaskResponse(BaseModel):
    task_id: str
    task_display_name: str
    operator_name: str
    owner: str
    start_date: datetime | None
    end_date: datetime | None
    trigger_rule: str
    depends_on_past: bool
    wait_for_downstream: bool
    retries: int
    queue: str
    pool: str
    pool_slots: int
    execution_timeout: float | None
    retry_delay: float | None
    retry_exponential_backoff: bool | float
    priority_weight: int
    weight_rule: str
    ui_color: str
    ui_fgcolor: str
    template_fields: list[str]
    downstream_task_ids: list[str]
    doc_md: str | None
    is_mapped: bool


class DAGDetailsResponse(DAGResponse):
    concurrency: int  # Airflow's deprecated name of max_active_tasks
    catchup: bool
    start_date: datetime | None
    end_date: datetime | None
    doc_md: str | None
    params: dict[str, Any]
    timezone: str
    dag_run_timeout: float | None
    max_consecutive_failed_dag_runs: int
    render_template_as_native_obj: bool
    is_paused_upon_creation: bool | None
    tasks: list[TaskResponse]


class DAGPatchBody(Body):
    is_paused: bool


class DAGSourceResponse(BaseModel):
    content: str | None
    dag_id: str
    dag_display_name: str
    version_number: int | None = None


def _columns() -> Any:
    return select(_DAG)


def _tags_of(conn: Connection, dag_ids: list[str]) -> dict[str, list[str]]:
    """The tag names of each DAG, sorted; one query for the whole batch."""
    tags: dict[str, list[str]] = {dag_id: [] for dag_id in dag_ids}
    if dag_ids:
        rows = conn.execute(
            select(_TAG.c.dag_id, _TAG.c.name).where(_TAG.c.dag_id.in_(dag_ids)).order_by(_TAG.c.name)
        ).all()
        for dag_id, name in rows:
            tags[dag_id].append(name)
    return tags


def _file_token(fileloc: str | None) -> str:
    """An opaque token naming the DAG file (Airflow signs the path; nothing here reads it back)."""
    return base64.urlsafe_b64encode((fileloc or "").encode()).decode()


def _dag_fields(row: Any, tags: list[str], dag: SerializedDag | None = None) -> dict[str, Any]:
    """The DAGResponse fields of a ``dag`` row. Without the serialized ``dag`` (lists, to avoid a
    query per DAG) the schedule kind is read from the stored summary and task limits are unknown."""
    display_name = (dag.dag_display_name if dag is not None else None) or row.dag_id
    if dag is not None:
        periodic = dag.timetable.periodic and dag.timetable.can_be_scheduled
        task_limits = any(
            t.max_active_tis_per_dag is not None or t.max_active_tis_per_dagrun is not None for t in dag.tasks
        )
        max_failed = dag.max_consecutive_failed_dag_runs
    else:
        periodic = (row.timetable_summary or "None") not in _UNSCHEDULED
        task_limits = False
        max_failed = 0
    return {
        "dag_id": row.dag_id,
        "dag_display_name": display_name,
        "file_token": _file_token(row.fileloc),
        "has_task_concurrency_limits": task_limits,
        "is_backfillable": periodic,
        "max_consecutive_failed_dag_runs": max_failed,
        "timetable_partitioned": False,
        "timetable_periodic": periodic,
        "is_paused": bool(row.is_paused),
        "is_active": bool(row.is_active),
        "is_stale": not row.is_active,
        "last_parsed_time": row.last_parsed_time,
        "fileloc": row.fileloc,
        "relative_fileloc": row.relative_fileloc,
        "owners": [o.strip() for o in (row.owners or "").split(",") if o.strip()],
        "tags": [{"name": name, "dag_id": row.dag_id, "dag_display_name": display_name} for name in tags],
        "description": row.description,
        "timetable_summary": row.timetable_summary,
        "timetable_description": row.timetable_description,
        "max_active_tasks": row.max_active_tasks if row.max_active_tasks is not None else 16,
        "max_active_runs": row.max_active_runs,
        "has_import_errors": bool(row.has_import_errors),
        "next_dagrun_logical_date": row.next_dagrun,
        "next_dagrun_data_interval_start": row.next_dagrun_data_interval_start,
        "next_dagrun_data_interval_end": row.next_dagrun_data_interval_end,
        "next_dagrun_run_after": row.next_dagrun_create_after,
    }


def _dag_row(conn: Connection, dag_id: str) -> Any:
    row = conn.execute(_columns().where(_DAG.c.dag_id == dag_id)).first()
    if row is None:
        raise not_found(f"DAG {dag_id!r}")
    return row


def _serialized(conn: Connection, dag_id: str) -> SerializedDag | None:
    try:
        return latest_serialized(conn, dag_id)[1]
    except DagNotStored:
        return None


def _one_dag(conn: Connection, dag_id: str) -> DAGResponse:
    row = _dag_row(conn, dag_id)
    dag = _serialized(conn, dag_id)
    return DAGResponse(**_dag_fields(row, _tags_of(conn, [dag_id])[dag_id], dag))


def _seconds(value: Any) -> float | None:
    return value.total_seconds() if value is not None else None


def _task(task: SerializedTask) -> TaskResponse:
    return TaskResponse(
        task_id=task.task_id,
        task_display_name=task.label or task.task_id,
        operator_name=task.operator_name,
        owner=task.owner,
        start_date=task.start_date,
        end_date=task.end_date,
        trigger_rule=str(task.trigger_rule.value),
        depends_on_past=task.depends_on_past,
        wait_for_downstream=task.wait_for_downstream,
        retries=task.retries,
        queue=task.queue,
        pool=task.pool,
        pool_slots=task.pool_slots,
        execution_timeout=_seconds(task.execution_timeout),
        retry_delay=_seconds(task.retry_delay),
        retry_exponential_backoff=task.retry_exponential_backoff,
        priority_weight=task.priority_weight,
        weight_rule=task.weight_rule,
        ui_color=task.ui_color,
        ui_fgcolor=task.ui_fgcolor,
        template_fields=list(task.template_fields),
        downstream_task_ids=sorted(task.downstream_task_ids),
        doc_md=task.doc_md,
        is_mapped=task.is_mapped,
    )


@router.get("/dags", response_model=DAGCollectionResponse)
def get_dags(
    request: Request,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.DAGS_READ))],
    limit: Limit = 50,
    offset: Offset = 0,
    tags: Annotated[list[str] | None, Query()] = None,
    tags_match_mode: Annotated[str, Query(pattern="^(any|all)$")] = "any",
    owners: Annotated[list[str] | None, Query()] = None,
    dag_id_pattern: str | None = None,
    paused: bool | None = None,
    exclude_stale: bool = True,
    only_active: bool | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """DAGs, filtered and paged. ``dag_id_pattern`` is a case-insensitive SQL LIKE search
    (``%`` and ``_`` are wildcards); ``only_active`` is Airflow 2's name of ``exclude_stale``.

    Four queries whatever the page size, and one while no DAG row or tag changed: built pages are
    kept per query string, stamped with the DAG count, the latest ``dag.updated_at`` and the tag
    count (see ``updraft.api.response_cache``). The page is validated once and serialized by pydantic-core
    straight to JSON: the UI's DAG list polls this, and with 100 DAGs per page FastAPI's generic
    encoding of the returned model cost about as much as the queries."""
    query = _columns()
    if only_active is not None:
        exclude_stale = only_active
    if exclude_stale:
        query = query.where(_DAG.c.is_active.is_(True))
    if paused is not None:
        query = query.where(_DAG.c.is_paused.is_(paused))
    if dag_id_pattern:
        query = query.where(_DAG.c.dag_id.ilike(f"%{dag_id_pattern}%"))
    if tags:
        tagged = select(_TAG.c.dag_id).where(_TAG.c.name.in_(tags))
        if tags_match_mode == "all":
            for tag in tags:
                query = query.where(_DAG.c.dag_id.in_(select(_TAG.c.dag_id).where(_TAG.c.name == tag)))
        else:
            query = query.where(_DAG.c.dag_id.in_(tagged))
    if owners:
        query = query.where(or_(*(_DAG.c.owners.ilike(f"%{owner}%") for owner in owners)))
    ordered = apply_order(query, order_by, _ORDER, ["dag_id"])  # 400 on a bad order_by, before caching
    key = tuple(sorted(request.query_params.multi_items()))
    stamp = conn.execute(
        select(
            func.count(),
            func.max(_DAG.c.updated_at),
            select(func.count()).select_from(_TAG).scalar_subquery(),
        )
    ).one()

    def build() -> bytes:
        total = count_of(conn, query)
        rows = conn.execute(ordered.limit(limit).offset(offset)).all()
        tag_map = _tags_of(conn, [row.dag_id for row in rows])
        page = DAGCollectionResponse.model_validate(
            {"dags": [_dag_fields(row, tag_map[row.dag_id]) for row in rows], "total_entries": total}
        )
        return page.model_dump_json().encode()

    return _PAGES.respond(request, key, tuple(stamp), build)


@router.get("/dags/{dag_id}")
def get_dag(
    dag_id: str, conn: Conn, user: Annotated[CurrentUser, Depends(require(Permission.DAGS_READ))]
) -> DAGResponse:
    return _one_dag(conn, dag_id)


@router.get("/dags/{dag_id}/details")
def get_dag_details(
    dag_id: str, conn: Conn, user: Annotated[CurrentUser, Depends(require(Permission.DAGS_READ))]
) -> DAGDetailsResponse:
    """The DAG with what its latest serialized version adds: params, dates, docs and tasks."""
    row = _dag_row(conn, dag_id)
    dag = _serialized(conn, dag_id)
    if dag is None:
        raise not_found(f"serialized DAG {dag_id!r}")
    base = _dag_fields(row, _tags_of(conn, [dag_id])[dag_id], dag)
    return DAGDetailsResponse(
        **base,
        concurrency=base["max_active_tasks"],
        catchup=dag.catchup,
        start_date=dag.start_date,
        end_date=dag.end_date,
        doc_md=dag.doc_md,
        params=dag.params.dump(),
        timezone=str(dag.timezone),
        dag_run_timeout=_seconds(dag.dagrun_timeout),
        render_template_as_native_obj=dag.render_template_as_native_obj,
        is_paused_upon_creation=dag.is_paused_upon_creation,
        tasks=[_task(task) for task in dag.tasks],
    )


@router.patch("/dags/{dag_id}")
def patch_dag(
    dag_id: str,
    body: DAGPatchBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.DAGS_EDIT))],
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> DAGResponse:
    """Pause or unpause a DAG (the only field Airflow lets this change)."""
    unknown = sorted(set(update_mask or []) - {"is_paused"})
    if unknown:
        raise bad_request(f"update_mask: only 'is_paused' can be updated, not {', '.join(unknown)}")
    _dag_row(conn, dag_id)
    changed = dag_admin.set_paused(conn, [dag_id], body.is_paused)
    record_event(conn, user, request, "pause" if body.is_paused else "unpause", dag_id=dag_id)
    conn.commit()
    if changed and not body.is_paused:
        notify_scheduler()
    return _one_dag(conn, dag_id)


@router.delete("/dags/{dag_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dag(
    dag_id: str,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.DAGS_EDIT))],
) -> Response:
    """Delete a DAG's metadata (runs, task instances, versions); 409 while a task runs."""
    _dag_row(conn, dag_id)
    try:
        dag_admin.delete_dag(conn, dag_id)
    except dag_admin.DagAdminError as exc:
        raise conflict(str(exc)) from None
    record_event(conn, user, request, "delete_dag", dag_id=dag_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/dagSources/{dag_id}", tags=["DagSource"])
def get_dag_source(
    dag_id: str, conn: Conn, user: Annotated[CurrentUser, Depends(require(Permission.DAGS_READ))]
) -> DAGSourceResponse:
    """The source code of the file that defines the DAG."""
    row = _dag_row(conn, dag_id)
    code = conn.scalar(select(DagCode.source_code).where(DagCode.fileloc == row.fileloc))
    if code is None:
        raise not_found(f"source code of DAG {dag_id!r}")
    dag = _serialized(conn, dag_id)
    name = (dag.dag_display_name if dag is not None else None) or dag_id
    return DAGSourceResponse(content=code, dag_id=dag_id, dag_display_name=name)
