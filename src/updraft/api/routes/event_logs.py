"""``/eventLogs``: Airflow 3's read-only view of the audit log (the ``log`` table).

Rows are written by ``updraft.api.audit.record_event``; this module only lists and shows them,
with Airflow's field names (``event_log_id`` is ``log.id``, ``when`` is ``log.dttm``). ``try_number``
and ``logical_date`` are not recorded by Updraft and are always ``null``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import Table, select

from updraft.api.routes.deps import Conn, DbId, Int32, Limit, Offset, apply_order, count_of, not_found
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core.db.models import Log

router = APIRouter(tags=["Event Log"])
_LOG: Table = Log.__table__  # type: ignore[assignment]
_ORDER = {
    "event_log_id": _LOG.c.id,
    "id": _LOG.c.id,
    "when": _LOG.c.dttm,
    "dttm": _LOG.c.dttm,
    "event": _LOG.c.event,
    "owner": _LOG.c.owner,
    "dag_id": _LOG.c.dag_id,
    "task_id": _LOG.c.task_id,
    "run_id": _LOG.c.run_id,
    "map_index": _LOG.c.map_index,
}
_Reader = Annotated[CurrentUser, Depends(require(Permission.AUDIT_LOG_READ))]


class EventLogResponse(BaseModel):
    event_log_id: int
    when: datetime
    dag_id: str | None
    task_id: str | None
    run_id: str | None
    map_index: int | None
    try_number: int | None
    event: str
    logical_date: datetime | None
    owner: str | None
    extra: str | None
    client_ip: str | None = None  # Updraft's addition: where the action came from


class EventLogCollectionResponse(BaseModel):
    event_logs: list[EventLogResponse]
    total_entries: int


def _response(row: Any) -> EventLogResponse:
    return EventLogResponse(
        event_log_id=row.id,
        when=row.dttm,
        dag_id=row.dag_id,
        task_id=row.task_id,
        run_id=row.run_id,
        map_index=row.map_index,
        try_number=None,
        event=row.event,
        logical_date=None,
        owner=row.owner,
        extra=row.extra,
        client_ip=row.client_ip,
    )


def _aware(moment: datetime) -> datetime:
    """A query's time without a zone is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@router.get("/eventLogs")
def get_event_logs(
    conn: Conn,
    user: _Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    order_by: Annotated[list[str] | None, Query()] = None,
    dag_id: str | None = None,
    task_id: str | None = None,
    run_id: str | None = None,
    map_index: Int32 | None = None,
    owner: str | None = None,
    event: str | None = None,
    excluded_events: Annotated[list[str] | None, Query()] = None,
    included_events: Annotated[list[str] | None, Query()] = None,
    before: datetime | None = None,
    after: datetime | None = None,
    dag_id_pattern: str | None = None,
    task_id_pattern: str | None = None,
    run_id_pattern: str | None = None,
    owner_pattern: str | None = None,
    event_pattern: str | None = None,
) -> EventLogCollectionResponse:
    """Audit events matching every given filter; ``before``/``after`` bound ``when`` (inclusive);
    a ``*_pattern`` is a case-insensitive substring of its field, as in Airflow 3."""
    query = select(_LOG)
    for column, pattern in (
        (_LOG.c.dag_id, dag_id_pattern),
        (_LOG.c.task_id, task_id_pattern),
        (_LOG.c.run_id, run_id_pattern),
        (_LOG.c.owner, owner_pattern),
        (_LOG.c.event, event_pattern),
    ):
        if pattern:
            query = query.where(column.ilike(f"%{pattern}%"))
    for column, value in (
        (_LOG.c.dag_id, dag_id),
        (_LOG.c.task_id, task_id),
        (_LOG.c.run_id, run_id),
        (_LOG.c.map_index, map_index),
        (_LOG.c.owner, owner),
        (_LOG.c.event, event),
    ):
        if value is not None:
            query = query.where(column == value)
    if included_events:
        query = query.where(_LOG.c.event.in_(included_events))
    if excluded_events:
        query = query.where(_LOG.c.event.not_in(excluded_events))
    if before is not None:
        query = query.where(_LOG.c.dttm <= _aware(before))
    if after is not None:
        query = query.where(_LOG.c.dttm >= _aware(after))
    total = count_of(conn, query)
    rows = conn.execute(
        apply_order(query, order_by, _ORDER, ["event_log_id"]).limit(limit).offset(offset)
    ).all()
    return EventLogCollectionResponse(event_logs=[_response(row) for row in rows], total_entries=total)


@router.get("/eventLogs/{event_log_id}")
def get_event_log(event_log_id: DbId, conn: Conn, user: _Reader) -> EventLogResponse:
    row = conn.execute(select(_LOG).where(_LOG.c.id == event_log_id)).first()
    if row is None:
        raise not_found(f"event log {event_log_id}")
    return _response(row)
