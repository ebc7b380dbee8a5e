"""``/assets``: Airflow 3's asset routes: list and read assets and their events, post an event.

Reads go through the queries of ``updraft.core.db.asset_events``; a posted event is recorded by its
``record_asset_events_by_id``, the statements a succeeding task's events go through, so every DAG
scheduled on the asset gets it queued, and the scheduler is woken with the same "assets queued"
message a task sends. Its ``extra`` gets ``"from_rest_api": true``, as in Airflow.

What Updraft does not store is left out of the answers rather than made up: an asset has no
``producing_tasks``, ``consuming_tasks``, ``aliases`` or ``watchers`` (task outlets live only in the
stored DAG JSON; aliases and watchers are not supported). An asset row and a DAG's reference to it
are never changed once written, so their ``updated_at`` is their ``created_at``. Extras are shown
with values of secret-looking keys (``password``, ``token``...) masked, as Airflow does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator

from updraft.api.audit import record_event
from updraft.api.routes.deps import Body, Conn, DbId, Int32, Limit, Offset, apply_order, count_of, not_found
from updraft.api.routes.lookups import require_dag
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core.db import asset_events as assets
from updraft.core.db.types import utcnow
from updraft.core.scheduler.wakeup import notify_assets_queued
from updraft.sdk.masking import redact

router = APIRouter(tags=["Asset"])
Reader = Annotated[CurrentUser, Depends(require(Permission.ASSETS_READ))]


class DagScheduleAssetReference(BaseModel):
    dag_id: str
    created_at: datetime
    updated_at: datetime


class LastAssetEventResponse(BaseModel):
    id: int | None = None
    timestamp: datetime | None = None


class AssetResponse(BaseModel):
    id: int
    name: str
    uri: str
    group: str
    extra: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    scheduled_dags: list[DagScheduleAssetReference]
    last_asset_event: LastAssetEventResponse | None = None


class AssetCollectionResponse(BaseModel):
    assets: list[AssetResponse]
    total_entries: int


class DagRunAssetReference(BaseModel):
    run_id: str
    dag_id: str
    logical_date: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    state: str
    data_interval_start: datetime | None
    data_interval_end: datetime | None


class AssetEventResponse(BaseModel):
    id: int
    asset_id: int
    uri: str | None = None
    name: str | None = None
    group: str | None = None
    extra: dict[str, Any] | None = None
    source_task_id: str | None = None
    source_dag_id: str | None = None
    source_run_id: str | None = None
    #: -1 for an event that no mapped task made, as in Airflow.
    source_map_index: int
    created_dagruns: list[DagRunAssetReference]
    timestamp: datetime


class AssetEventCollectionResponse(BaseModel):
    asset_events: list[AssetEventResponse]
    total_entries: int


class QueuedEventResponse(BaseModel):
    dag_id: str
    asset_id: int
    #: When the oldest event of this asset still waiting for a run of the DAG was queued.
    created_at: datetime
    dag_display_name: str


class QueuedEventCollectionResponse(BaseModel):
    queued_events: list[QueuedEventResponse]
    total_entries: int


class CreateAssetEventsBody(Body):
    asset_id: DbId
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("extra")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:  # as the column stores it: NaN and Infinity are not JSON
            json.dumps(value, allow_nan=False)
        except ValueError as exc:
            raise ValueError(f"cannot be stored as JSON: {exc}") from None
        return value


def _extra(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    shown = redact(value)
    return shown if isinstance(shown, dict) else {"value": shown}


def _asset_response(row: Any, dags: list[Any]) -> AssetResponse:
    return AssetResponse(
        id=row.id,
        name=row.name,
        uri=row.uri,
        group=row.group,
        extra=_extra(row.extra),
        created_at=row.created_at,
        updated_at=row.created_at,
        scheduled_dags=[
            DagScheduleAssetReference(dag_id=d.dag_id, created_at=d.created_at, updated_at=d.created_at)
            for d in dags
        ],
        last_asset_event=LastAssetEventResponse(id=row.last_event_id, timestamp=row.last_event_timestamp),
    )


def _event_response(row: Any, runs: list[Any]) -> AssetEventResponse:
    return AssetEventResponse(
        id=row.id,
        asset_id=row.asset_id,
        uri=row.uri,
        name=row.name,
        group=row.group,
        extra=_extra(row.extra),
        source_task_id=row.source_task_id,
        source_dag_id=row.source_dag_id,
        source_run_id=row.source_run_id,
        source_map_index=row.source_map_index if row.source_map_index is not None else -1,
        created_dagruns=[
            DagRunAssetReference(
                run_id=run.run_id,
                dag_id=run.dag_id,
                logical_date=run.logical_date,
                start_date=run.start_date,
                end_date=run.end_date,
                state=run.state,
                data_interval_start=run.data_interval_start,
                data_interval_end=run.data_interval_end,
            )
            for run in runs
        ],
        timestamp=row.timestamp,
    )


# The /assets/events routes come before /assets/{asset_id}, which would otherwise match them.


@router.get("/assets/events")
def get_asset_events(
    conn: Conn,
    user: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    order_by: Annotated[list[str] | None, Query()] = None,
    asset_id: DbId | None = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    source_map_index: Int32 | None = None,
    name_pattern: str | None = None,
    timestamp_gte: datetime | None = None,
    timestamp_lte: datetime | None = None,
) -> AssetEventCollectionResponse:
    """Asset events, oldest first unless ``order_by`` says otherwise, with the runs they triggered."""
    query = assets.asset_event_query(
        asset_id=asset_id,
        source_dag_id=source_dag_id,
        source_task_id=source_task_id,
        source_run_id=source_run_id,
        source_map_index=source_map_index,
        name_pattern=name_pattern,
        timestamp_gte=timestamp_gte,
        timestamp_lte=timestamp_lte,
    )
    total = count_of(conn, query)
    page = apply_order(query, order_by, assets.EVENT_ORDER, ["timestamp", "id"])
    rows = conn.execute(page.limit(limit).offset(offset)).all()
    runs = assets.runs_created_by(conn, [row.id for row in rows])
    return AssetEventCollectionResponse(
        asset_events=[_event_response(row, runs[row.id]) for row in rows], total_entries=total
    )


@router.post("/assets/events")
def create_asset_event(
    body: CreateAssetEventsBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.RUNS_TRIGGER))],
) -> AssetEventResponse:
    """Record an event of the asset as if a task had updated it: every DAG scheduled on the asset
    gets it queued, and an asset-triggered run follows when the DAG's condition holds."""
    if assets.get_asset(conn, body.asset_id) is None:
        raise not_found(f"asset with id {body.asset_id}")
    extra = {**body.extra, "from_rest_api": True}
    (event_id,) = assets.record_asset_events_by_id(conn, [(body.asset_id, extra)], timestamp=utcnow())
    record_event(
        conn, user, request, "create_asset_event", extra={"asset_id": body.asset_id, "event_id": event_id}
    )
    conn.commit()
    notify_assets_queued()
    row = conn.execute(assets.asset_event_query(event_id=event_id)).one()
    return _event_response(row, [])


@router.get("/assets")
def get_assets(
    conn: Conn,
    user: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    order_by: Annotated[list[str] | None, Query()] = None,
    name_pattern: str | None = None,
    uri_pattern: str | None = None,
) -> AssetCollectionResponse:
    """Assets by id unless ``order_by`` says otherwise; the patterns match anywhere (SQL LIKE)."""
    query = assets.asset_query(name_pattern=name_pattern, uri_pattern=uri_pattern)
    total = count_of(conn, query)
    rows = conn.execute(
        apply_order(query, order_by, assets.ASSET_ORDER, ["id"]).limit(limit).offset(offset)
    ).all()
    dags = assets.scheduled_dags(conn, [row.id for row in rows])
    return AssetCollectionResponse(
        assets=[_asset_response(row, dags[row.id]) for row in rows], total_entries=total
    )


@router.get("/assets/{asset_id}")
def get_asset(asset_id: DbId, conn: Conn, user: Reader) -> AssetResponse:
    row = assets.get_asset(conn, asset_id)
    if row is None:
        raise not_found(f"asset with id {asset_id}")
    return _asset_response(row, assets.scheduled_dags(conn, [asset_id])[asset_id])


@router.get("/dags/{dag_id}/assets/queuedEvents")
def get_dag_asset_queued_events(
    dag_id: str, conn: Conn, user: Reader, before: datetime | None = None
) -> QueuedEventCollectionResponse:
    """The assets with events waiting for a run of the DAG (queued before ``before``, if given)."""
    require_dag(conn, dag_id)
    rows = assets.queued_assets(conn, dag_id, before=before)
    return QueuedEventCollectionResponse(
        queued_events=[
            QueuedEventResponse(
                dag_id=dag_id, asset_id=row.asset_id, created_at=row.created_at, dag_display_name=dag_id
            )
            for row in rows
        ],
        total_entries=len(rows),
    )
