"""Asset rows, asset events and the per-DAG queue of events waiting for an asset-triggered run.

Callers pass a ``Connection`` inside their own transaction; nothing here commits. Every function
works on a batch with a fixed number of statements, whatever its size. Asset rows are created on
first use (by a DAG scheduled on the asset or by a task updating it) with ``ON CONFLICT DO
NOTHING``, so concurrent writers of the same asset do not collide.

An event comes from a task's success (``record_asset_events``, with its task instance as source)
or from outside, through the REST API (``record_asset_events_by_id``, no source); both insert and
queue it with the same statements. The queries at the end serve the ``/api/v2/assets`` routes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, func, insert, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from updraft.core.db.models import (
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    DagRun,
    DagRunAssetEvent,
    DagScheduleAssetReference,
)
from updraft.sdk.assets import Asset, AssetKey, TriggeringAssetEvent

__all__ = [
    "ASSET_ORDER",
    "EVENT_ORDER",
    "asset_event_history",
    "asset_event_query",
    "asset_query",
    "ensure_assets",
    "get_asset",
    "insert_ignoring_conflicts",
    "queued_assets",
    "record_asset_events",
    "record_asset_events_by_id",
    "runs_created_by",
    "scheduled_dags",
    "triggering_events",
]


def insert_ignoring_conflicts(
    conn: Connection, model: Any, keys: list[str], rows: list[dict[str, Any]]
) -> None:
    """Insert ``rows``, skipping those whose ``keys`` already exist (one executemany)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(model).on_conflict_do_nothing(index_elements=keys), rows)


def _key_filter(keys: Collection[AssetKey]) -> Any:
    return or_(*(and_(AssetModel.name == name, AssetModel.uri == uri) for name, uri in keys))


def ensure_assets(conn: Connection, assets: Iterable[Asset], now: datetime) -> dict[AssetKey, int]:
    """The row id of each asset, creating the rows that are missing."""
    wanted = {item.key: item for item in assets}
    if not wanted:
        return {}
    query = select(AssetModel.id, AssetModel.name, AssetModel.uri)
    found = {(row.name, row.uri): int(row.id) for row in conn.execute(query.where(_key_filter(wanted)))}
    missing = [item for key, item in wanted.items() if key not in found]
    if missing:
        rows = [
            {"name": a.name, "uri": a.uri, "group": a.group, "extra": a.extra or None, "created_at": now}
            for a in missing
        ]
        insert_ignoring_conflicts(conn, AssetModel, ["name", "uri"], rows)
        keys = [a.key for a in missing]
        found.update(
            {(row.name, row.uri): int(row.id) for row in conn.execute(query.where(_key_filter(keys)))}
        )
    return found


def record_asset_events(
    conn: Connection,
    assets: Collection[Asset],
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
    timestamp: datetime,
    extras: Mapping[AssetKey, dict[str, Any]] | None = None,
) -> list[int]:
    """One event per asset from this task instance, queued for every DAG scheduled on the asset.

    Returns the new events' ids. Four statements: find/create the assets, insert the events, and
    one INSERT ... SELECT that queues them for the DAGs referencing their assets. The source task
    instance is None for an event that no task made (one posted through the REST API).
    """
    if not assets:
        return []
    ids = ensure_assets(conn, assets, timestamp)
    extras = extras or {}
    return record_asset_events_by_id(
        conn,
        [(ids[item.key], extras.get(item.key) or {}) for item in assets],
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        timestamp=timestamp,
    )


def record_asset_events_by_id(
    conn: Connection,
    events: Sequence[tuple[int, dict[str, Any]]],
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
    timestamp: datetime,
) -> list[int]:
    """Insert one event per ``(asset row id, extra)`` and queue each for every DAG scheduled on its
    asset (two statements); the new events' ids, in order. The assets' rows must exist."""
    if not events:
        return []
    rows = [
        {
            "asset_id": asset_id,
            "extra": extra,
            "source_dag_id": dag_id,
            "source_run_id": run_id,
            "source_task_id": task_id,
            "source_map_index": map_index,
            "timestamp": timestamp,
        }
        for asset_id, extra in events
    ]
    event_ids = [
        int(i)
        for i in conn.scalars(insert(AssetEvent).returning(AssetEvent.id, sort_by_parameter_order=True), rows)
    ]
    ref = DagScheduleAssetReference
    conn.execute(
        insert(AssetDagRunQueue).from_select(
            ["target_dag_id", "event_id", "asset_id", "created_at"],
            select(
                ref.dag_id, AssetEvent.id, AssetEvent.asset_id, literal(timestamp, AssetEvent.timestamp.type)
            )
            .join(ref, ref.asset_id == AssetEvent.asset_id)
            .where(AssetEvent.id.in_(event_ids)),
        )
    )
    return event_ids


def _event_query() -> Any:
    return select(
        AssetEvent.id,
        AssetEvent.extra,
        AssetEvent.source_dag_id,
        AssetEvent.source_run_id,
        AssetEvent.source_task_id,
        AssetEvent.source_map_index,
        AssetEvent.timestamp,
        AssetModel.name,
        AssetModel.uri,
        AssetModel.group,
        AssetModel.extra.label("asset_extra"),
    ).join(AssetModel, AssetModel.id == AssetEvent.asset_id)


def to_event(row: Any) -> TriggeringAssetEvent:
    return TriggeringAssetEvent(
        id=int(row.id),
        asset=Asset(name=row.name, uri=row.uri, group=row.group, extra=row.asset_extra),
        extra=dict(row.extra or {}),
        source_dag_id=row.source_dag_id,
        source_run_id=row.source_run_id,
        source_task_id=row.source_task_id,
        source_map_index=row.source_map_index if row.source_map_index is not None else -1,
        timestamp=row.timestamp,
    )


def triggering_events(conn: Connection, dag_run_id: int) -> list[TriggeringAssetEvent]:
    """The events a run consumed, oldest first."""
    rows = conn.execute(
        _event_query()
        .join(DagRunAssetEvent, DagRunAssetEvent.event_id == AssetEvent.id)
        .where(DagRunAssetEvent.dag_run_id == dag_run_id)
        .order_by(AssetEvent.timestamp, AssetEvent.id)
    )
    return [to_event(row) for row in rows]


def asset_event_history(conn: Connection, item: Asset) -> list[TriggeringAssetEvent]:
    """Every recorded event of one asset, oldest first (``inlet_events``)."""
    rows = conn.execute(
        _event_query()
        .where(AssetModel.name == item.name, AssetModel.uri == item.uri)
        .order_by(AssetEvent.timestamp, AssetEvent.id)
    )
    return [to_event(row) for row in rows]


# -- reading, for the REST API ----------------------------------------------------------------------


def _latest_event(column: Any) -> Any:
    """A column of the asset's newest event (by timestamp, then id), correlated to ``AssetModel``."""
    return (
        select(column)
        .where(AssetEvent.asset_id == AssetModel.id)
        .order_by(AssetEvent.timestamp.desc(), AssetEvent.id.desc())
        .limit(1)
        .correlate(AssetModel)
        .scalar_subquery()
    )


#: Sort keys of :func:`asset_query`. An asset row is never changed once created (a DAG that later
#: declares other ``group``/``extra`` for the same name and URI does not rewrite it), so the time it
#: was last updated is the time it was created.
ASSET_ORDER: dict[str, Any] = {
    "id": AssetModel.id,
    "name": AssetModel.name,
    "uri": AssetModel.uri,
    "created_at": AssetModel.created_at,
    "updated_at": AssetModel.created_at,
}
#: Sort keys of :func:`asset_event_query`.
EVENT_ORDER: dict[str, Any] = {
    "id": AssetEvent.id,
    "asset_id": AssetEvent.asset_id,
    "source_dag_id": AssetEvent.source_dag_id,
    "source_task_id": AssetEvent.source_task_id,
    "source_run_id": AssetEvent.source_run_id,
    "source_map_index": AssetEvent.source_map_index,
    "timestamp": AssetEvent.timestamp,
}


def asset_query(
    *, asset_id: int | None = None, name_pattern: str | None = None, uri_pattern: str | None = None
) -> Select[Any]:
    """Assets with the id and timestamp of their newest event (``last_event_id``/``_timestamp``);
    the patterns are case-insensitive SQL LIKE patterns matched anywhere in the name or URI."""
    query = select(
        AssetModel.id,
        AssetModel.name,
        AssetModel.uri,
        AssetModel.group,
        AssetModel.extra,
        AssetModel.created_at,
        _latest_event(AssetEvent.id).label("last_event_id"),
        _latest_event(AssetEvent.timestamp).label("last_event_timestamp"),
    )
    if asset_id is not None:
        query = query.where(AssetModel.id == asset_id)
    if name_pattern:
        query = query.where(AssetModel.name.ilike(f"%{name_pattern}%"))
    if uri_pattern:
        query = query.where(AssetModel.uri.ilike(f"%{uri_pattern}%"))
    return query


def get_asset(conn: Connection, asset_id: int) -> Any | None:
    """One row of :func:`asset_query`, or None when there is no such asset."""
    return conn.execute(asset_query(asset_id=asset_id)).first()


def scheduled_dags(conn: Connection, asset_ids: Collection[int]) -> dict[int, list[Any]]:
    """The DAGs scheduled on each of these assets (rows of ``dag_id, created_at``), in one query."""
    found: dict[int, list[Any]] = {asset_id: [] for asset_id in asset_ids}
    if not found:
        return found
    ref = DagScheduleAssetReference
    rows = conn.execute(
        select(ref.asset_id, ref.dag_id, ref.created_at)
        .where(ref.asset_id.in_(list(found)))
        .order_by(ref.asset_id, ref.dag_id)
    )
    for row in rows:
        found[int(row.asset_id)].append(row)
    return found


def asset_event_query(
    *,
    event_id: int | None = None,
    asset_id: int | None = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    source_map_index: int | None = None,
    name_pattern: str | None = None,
    timestamp_gte: datetime | None = None,
    timestamp_lte: datetime | None = None,
) -> Select[Any]:
    """Asset events with their asset's name, URI and group, filtered by what is given."""
    query = select(
        AssetEvent.id,
        AssetEvent.asset_id,
        AssetEvent.extra,
        AssetEvent.source_dag_id,
        AssetEvent.source_task_id,
        AssetEvent.source_run_id,
        AssetEvent.source_map_index,
        AssetEvent.timestamp,
        AssetModel.name,
        AssetModel.uri,
        AssetModel.group,
    ).join(AssetModel, AssetModel.id == AssetEvent.asset_id)
    equal = (
        (AssetEvent.id, event_id),
        (AssetEvent.asset_id, asset_id),
        (AssetEvent.source_dag_id, source_dag_id),
        (AssetEvent.source_task_id, source_task_id),
        (AssetEvent.source_run_id, source_run_id),
        (AssetEvent.source_map_index, source_map_index),
    )
    query = query.where(*(column == value for column, value in equal if value is not None))
    if name_pattern:
        query = query.where(AssetModel.name.ilike(f"%{name_pattern}%"))
    if timestamp_gte is not None:
        query = query.where(AssetEvent.timestamp >= timestamp_gte)
    if timestamp_lte is not None:
        query = query.where(AssetEvent.timestamp <= timestamp_lte)
    return query


def runs_created_by(conn: Connection, event_ids: Collection[int]) -> dict[int, list[Any]]:
    """The runs each of these events triggered (rows of ``dag_run``), in one query."""
    found: dict[int, list[Any]] = {event_id: [] for event_id in event_ids}
    if not found:
        return found
    rows = conn.execute(
        select(
            DagRunAssetEvent.event_id,
            DagRun.run_id,
            DagRun.dag_id,
            DagRun.logical_date,
            DagRun.start_date,
            DagRun.end_date,
            DagRun.state,
            DagRun.data_interval_start,
            DagRun.data_interval_end,
        )
        .join(DagRun, DagRun.id == DagRunAssetEvent.dag_run_id)
        .where(DagRunAssetEvent.event_id.in_(list(found)))
        .order_by(DagRunAssetEvent.event_id, DagRun.id)
    )
    for row in rows:
        found[int(row.event_id)].append(row)
    return found


def queued_assets(conn: Connection, dag_id: str, *, before: datetime | None = None) -> list[Any]:
    """Per asset, the events waiting for a run of ``dag_id``, by asset id: rows of ``asset_id``,
    ``created_at`` (when the oldest was queued) and ``events`` (how many); one query."""
    queue = AssetDagRunQueue
    query = select(
        queue.asset_id, func.min(queue.created_at).label("created_at"), func.count().label("events")
    ).where(queue.target_dag_id == dag_id)
    if before is not None:
        query = query.where(queue.created_at < before)
    return list(conn.execute(query.group_by(queue.asset_id).order_by(queue.asset_id)))
