"""Task-instance response models and queries shared by the task-instance, try and log routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Connection, Select, Table, and_, select

from updraft.api.routes.deps import not_found
from updraft.api.routes.lookups import require_dag, run_row
from updraft.core.db.models import DagRun, TaskInstance
from updraft.sdk.masking import redact

__all__ = ["TaskInstanceCollectionResponse", "TaskInstanceResponse", "ti_query", "ti_response", "ti_row"]

TI: Table = TaskInstance.__table__  # type: ignore[assignment]
RUN: Table = DagRun.__table__  # type: ignore[assignment]


class TaskInstanceResponse(BaseModel):
    id: UUID
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    logical_date: datetime | None
    run_after: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    state: str | None
    try_number: int
    max_tries: int
    task_display_name: str
    dag_display_name: str
    hostname: str | None
    unixname: str | None
    pool: str
    pool_slots: int
    queue: str | None
    priority_weight: int | None
    operator: str | None
    custom_operator_name: str | None
    queued_when: datetime | None
    scheduled_when: datetime | None
    pid: int | None
    executor: str | None
    executor_config: str
    note: str | None
    rendered_map_index: str | None
    rendered_fields: dict[str, Any]
    trigger: None = None
    triggerer_job: None = None


class TaskInstanceCollectionResponse(BaseModel):
    task_instances: list[TaskInstanceResponse]
    total_entries: int


def ti_query() -> Select[Any]:
    """Task instances with their run's logical date and run_after."""
    return select(TI, RUN.c.logical_date, RUN.c.run_after).join(
        RUN, and_(RUN.c.dag_id == TI.c.dag_id, RUN.c.run_id == TI.c.run_id)
    )


def ti_response(row: Any) -> TaskInstanceResponse:
    # Masked when stored; fields named like secrets are hidden again here, should an old row hold one.
    rendered = redact(row.rendered_fields) if isinstance(row.rendered_fields, dict) else {}
    return TaskInstanceResponse(
        id=UUID(int=row.id),  # Airflow 3's ids are UUIDs; ours is the row's integer key
        task_id=row.task_id,
        dag_id=row.dag_id,
        dag_run_id=row.run_id,
        map_index=row.map_index,
        logical_date=row.logical_date,
        run_after=row.run_after,
        start_date=row.start_date,
        end_date=row.end_date,
        duration=row.duration,
        state=row.state,
        try_number=row.try_number,
        max_tries=row.max_tries,
        task_display_name=row.task_id,
        dag_display_name=row.dag_id,
        hostname=row.hostname,
        unixname=None,
        pool=row.pool,
        pool_slots=row.pool_slots,
        queue=row.queue,
        priority_weight=row.priority_weight,
        operator=row.operator,
        custom_operator_name=row.custom_operator_name,
        queued_when=row.queued_dttm,
        scheduled_when=row.scheduled_dttm,
        pid=row.pid,
        executor=row.executor,
        executor_config="{}",
        note=row.note,
        rendered_map_index=str(row.map_index) if row.map_index >= 0 else None,
        rendered_fields=rendered,
    )


def ti_row(conn: Connection, dag_id: str, run_id: str, task_id: str, map_index: int) -> Any:
    """One task instance's row; 404 naming the DAG, run, task and map index that are missing."""
    row = conn.execute(
        ti_query().where(
            TI.c.dag_id == dag_id, TI.c.run_id == run_id, TI.c.task_id == task_id, TI.c.map_index == map_index
        )
    ).first()
    if row is None:
        require_dag(conn, dag_id)
        run_row(conn, dag_id, run_id)
        index = f" (map index {map_index})" if map_index >= 0 else ""
        raise not_found(f"task instance {task_id!r}{index} of run {run_id!r} in DAG {dag_id!r}")
    return row
