"""Asset-triggered runs: which DAG is scheduled on which asset, and creating a run for each DAG
whose asset condition holds over the events queued for it.

A task that succeeds with asset outlets records its events and queues them for every DAG that
references the asset (``updraft.core.db.asset_events``), in the transaction that records its
success, then wakes the scheduler. The scheduler locks the DAG rows that have queued events
(``FOR NO KEY UPDATE SKIP LOCKED`` on PostgreSQL, so several schedulers share the work and a task
inserting into the queue is not blocked), evaluates each DAG's condition over the assets of its
queued events, and for each DAG where it holds creates one queued ``asset_triggered`` run, links
the queued events to it and removes them from the queue. A paused DAG keeps its queue; its run
is created once it is unpaused.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, exists, func, insert, select

from updraft.core.dag_runs import DagRunExists, create_dag_run
from updraft.core.db.asset_events import ensure_assets, insert_ignoring_conflicts
from updraft.core.db.models import (
    AssetDagRunQueue,
    AssetModel,
    DagModel,
    DagRun,
    DagRunAssetEvent,
    DagScheduleAssetReference,
)
from updraft.core.scheduler.dag_cache import DagCache
from updraft.sdk.serialization import SerializedDag
from updraft.sdk.states import DagRunState, DagRunType
from updraft.sdk.timetables import asset_condition_of

log = logging.getLogger(__name__)
_ACTIVE_RUN_STATES = (DagRunState.QUEUED.value, DagRunState.RUNNING.value)
_QUEUE = AssetDagRunQueue
_REF = DagScheduleAssetReference


def sync_references(conn: Connection, dags: dict[str, SerializedDag], now: datetime) -> None:
    """Make ``dag_schedule_asset_reference`` match these DAGs' schedules (new stored versions).

    Queued events of assets a DAG is no longer scheduled on are dropped, as in Airflow.
    """
    if not dags:
        return
    wanted_assets = {
        dag_id: list(condition.iter_assets())
        for dag_id, dag in dags.items()
        if (condition := asset_condition_of(dag.timetable)) is not None
    }
    ids = ensure_assets(conn, [a for assets in wanted_assets.values() for a in assets], now)
    wanted = {(ids[a.key], dag_id) for dag_id, assets in wanted_assets.items() for a in assets}
    existing = {
        (int(row.asset_id), row.dag_id)
        for row in conn.execute(select(_REF.asset_id, _REF.dag_id).where(_REF.dag_id.in_(list(dags))))
    }
    stale = [{"b_asset": asset_id, "b_dag": dag_id} for asset_id, dag_id in existing - wanted]
    if stale:
        conn.execute(
            delete(_REF).where(_REF.asset_id == bindparam("b_asset"), _REF.dag_id == bindparam("b_dag")),
            stale,
        )
        conn.execute(
            delete(_QUEUE).where(
                _QUEUE.asset_id == bindparam("b_asset"), _QUEUE.target_dag_id == bindparam("b_dag")
            ),
            stale,
        )
    new = [{"asset_id": a, "dag_id": d, "created_at": now} for a, d in sorted(wanted - existing)]
    insert_ignoring_conflicts(conn, _REF, ["asset_id", "dag_id"], new)


def _run_id(now: datetime) -> str:
    return f"{DagRunType.ASSET_TRIGGERED.value}__{now.isoformat()}_{secrets.token_hex(4)}"


def create_asset_triggered_runs(conn: Connection, cache: DagCache, now: datetime) -> list[tuple[str, str]]:
    """One queued run for each unpaused DAG whose asset condition holds over its queued events."""
    candidates = select(DagModel.dag_id).where(
        DagModel.is_active.is_(True),
        DagModel.is_paused.is_(False),
        exists().where(_QUEUE.target_dag_id == DagModel.dag_id),
    )
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, key_share=True, of=DagModel)
    dag_ids = list(conn.scalars(candidates))
    if not dag_ids:
        return []
    queued: dict[str, list[tuple[int, tuple[str, str], datetime]]] = defaultdict(list)
    rows = conn.execute(
        select(_QUEUE.target_dag_id, _QUEUE.event_id, _QUEUE.created_at, AssetModel.name, AssetModel.uri)
        .join(AssetModel, AssetModel.id == _QUEUE.asset_id)
        .where(_QUEUE.target_dag_id.in_(dag_ids))
    )
    for row in rows:
        queued[row.target_dag_id].append((int(row.event_id), (row.name, row.uri), row.created_at))
    active = dict(
        conn.execute(
            select(DagRun.dag_id, func.count())
            .where(DagRun.dag_id.in_(dag_ids), DagRun.state.in_(_ACTIVE_RUN_STATES))
            .group_by(DagRun.dag_id)
        ).all()
    )
    latest = cache.latest(conn, dag_ids)
    created: list[tuple[str, str]] = []
    links: list[dict[str, int]] = []
    consumed: list[dict[str, object]] = []
    for dag_id in sorted(queued):
        if dag_id not in latest:
            continue
        serialized_id, dag = latest[dag_id]
        condition = asset_condition_of(dag.timetable)
        events = queued[dag_id]
        if condition is None or not condition.evaluate({key for _, key, _ in events}):
            continue
        if active.get(dag_id, 0) >= dag.max_active_runs:
            continue  # as Airflow: the events stay queued until a run slot is free
        try:
            run_pk, run_id = create_dag_run(
                conn,
                dag,
                serialized_id,
                run_type=DagRunType.ASSET_TRIGGERED,
                logical_date=None,
                run_after=max(created_at for _, _, created_at in events),
                run_id=_run_id(now),
                triggered_by="asset",
            )
        except DagRunExists:  # a random run_id collided: try again next pass
            continue
        created.append((dag_id, run_id))
        links += [{"dag_run_id": run_pk, "event_id": event_id} for event_id, _, _ in events]
        consumed += [{"b_dag": dag_id, "b_event": event_id} for event_id, _, _ in events]
        log.info("DAG %s: asset-triggered run %s from %d event(s)", dag_id, run_id, len(events))
    if links:
        conn.execute(insert(DagRunAssetEvent), links)
        conn.execute(
            delete(_QUEUE).where(
                _QUEUE.target_dag_id == bindparam("b_dag"), _QUEUE.event_id == bindparam("b_event")
            ),
            consumed,
        )
    return created
