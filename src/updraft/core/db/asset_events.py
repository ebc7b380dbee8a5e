"""Asset rows, asset events and the per-DAG queue of events waiting for an asset-triggered run.

Callers pass a ``Connection`` inside their own transaction; nothing here commits. Every function
works on a batch with a fixed number of statements, whatever its size. Asset rows are created on
first use (by a DAG scheduled on the asset or by a task updating it) with ``ON CONFLICT DO
NOTHING``, so concurrent writers of the same asset do not collide.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from updraft.core.db.models import (
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    DagRunAssetEvent,
    DagScheduleAssetReference,
)
from updraft.sdk.assets import Asset, AssetKey, TriggeringAssetEvent

__all__ = [
    "asset_event_history", "ensure_assets", "insert_ignoring_conflicts", "record_asset_events", "triggering_events",
]  # fmt: skip


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
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
    timestamp: datetime,
    extras: Mapping[AssetKey, dict[str, Any]] | None = None,
) -> list[int]:
    """One event per asset from this task instance, queued for every DAG scheduled on the asset.

    Returns the new events' ids. Four statements: find/create the assets, insert the events, and
    one INSERT ... SELECT that queues them for the DAGs referencing their assets.
    """
    if not assets:
        return []
    ids = ensure_assets(conn, assets, timestamp)
    extras = extras or {}
    rows = [
        {
            "asset_id": ids[item.key],
            "extra": extras.get(item.key) or {},
            "source_dag_id": dag_id,
            "source_run_id": run_id,
            "source_task_id": task_id,
            "source_map_index": map_index,
            "timestamp": timestamp,
        }
        for item in assets
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
