"""Creating the DAG runs that timetables say are due, and keeping each DAG's next run current."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from updraft.core.dag_admin import time_restriction
from updraft.core.dag_runs import DagRunExists, create_dag_run
from updraft.core.db.models import DagModel, DagRun
from updraft.core.db.types import utcnow
from updraft.core.scheduler.assets import sync_references
from updraft.core.scheduler.dag_cache import DagCache
from updraft.sdk.serialization import SerializedDag
from updraft.sdk.states import DagRunState, DagRunType
from updraft.sdk.timetables import DagRunInfo, DataInterval, TimeRestriction

log = logging.getLogger(__name__)
ACTIVE_RUN_STATES = (DagRunState.QUEUED.value, DagRunState.RUNNING.value)


def _restriction(dag: SerializedDag) -> TimeRestriction:
    """The same rule `updraft dags next-execution` uses (DAG and task start/end dates)."""
    return time_restriction(dag)


def _next_values(info: DagRunInfo | None) -> dict[str, datetime | None]:
    if info is None:
        return {
            "next_dagrun": None,
            "next_dagrun_data_interval_start": None,
            "next_dagrun_data_interval_end": None,
            "next_dagrun_create_after": None,
        }
    return {
        "next_dagrun": info.logical_date,
        "next_dagrun_data_interval_start": info.data_interval.start,
        "next_dagrun_data_interval_end": info.data_interval.end,
        "next_dagrun_create_after": info.run_after,
    }


class RunCreator:
    """Owns the ``next_dagrun*`` columns: computes them from the timetable and creates runs."""

    def __init__(self, cache: DagCache) -> None:
        self.cache = cache
        #: dag_id -> the serialized version its next_dagrun* were computed from.
        self._computed_for: dict[str, int] = {}

    def refresh_next_runs(self, conn: Connection) -> None:
        """(Re)compute next_dagrun* for active DAGs whose stored version we have not seen yet, and
        which assets they are scheduled on."""
        dag_ids = list(conn.scalars(select(DagModel.dag_id).where(DagModel.is_active.is_(True))))
        latest = self.cache.latest(conn, dag_ids)
        stale = {dag_id: v for dag_id, v in latest.items() if self._computed_for.get(dag_id) != v[0]}
        if not stale:
            return
        last_intervals = self._last_automated_intervals(conn, list(stale))
        sync_references(conn, {dag_id: dag for dag_id, (_, dag) in stale.items()}, utcnow())
        for dag_id, (serialized_id, dag) in stale.items():
            info = None
            if dag.timetable.can_be_scheduled:
                info = dag.timetable.next_dagrun_info(
                    last_automated_data_interval=last_intervals.get(dag_id), restriction=_restriction(dag)
                )
            conn.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(**_next_values(info)))
            self._computed_for[dag_id] = serialized_id

    def _last_automated_intervals(self, conn: Connection, dag_ids: list[str]) -> dict[str, DataInterval]:
        latest = (
            select(DagRun.dag_id, func.max(DagRun.logical_date).label("logical_date"))
            .where(DagRun.dag_id.in_(dag_ids), DagRun.run_type == DagRunType.SCHEDULED.value)
            .group_by(DagRun.dag_id)
            .subquery()
        )
        rows = conn.execute(
            select(DagRun.dag_id, DagRun.data_interval_start, DagRun.data_interval_end).join(
                latest, (DagRun.dag_id == latest.c.dag_id) & (DagRun.logical_date == latest.c.logical_date)
            )
        )
        return {
            row.dag_id: DataInterval(row.data_interval_start, row.data_interval_end)
            for row in rows
            if row.data_interval_start is not None and row.data_interval_end is not None
        }

    def create_due_runs(self, conn: Connection, now: datetime) -> list[tuple[str, str]]:
        """One scheduled run for each DAG whose next run is due and that is under max_active_runs."""
        query = select(
            DagModel.dag_id,
            DagModel.next_dagrun,
            DagModel.next_dagrun_data_interval_start,
            DagModel.next_dagrun_data_interval_end,
            DagModel.next_dagrun_create_after,
        ).where(
            DagModel.is_active.is_(True),
            DagModel.is_paused.is_(False),
            DagModel.next_dagrun_create_after.is_not(None),
            DagModel.next_dagrun_create_after <= now,
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=DagModel)
        due = conn.execute(query).all()
        if not due:
            return []
        active = dict(
            conn.execute(
                select(DagRun.dag_id, func.count())
                .where(DagRun.dag_id.in_([row.dag_id for row in due]), DagRun.state.in_(ACTIVE_RUN_STATES))
                .group_by(DagRun.dag_id)
            ).all()
        )
        latest = self.cache.latest(conn, [row.dag_id for row in due])
        created = []
        for row in due:
            if row.dag_id not in latest:
                continue
            serialized_id, dag = latest[row.dag_id]
            if active.get(row.dag_id, 0) >= dag.max_active_runs:
                continue
            interval = DataInterval(row.next_dagrun_data_interval_start, row.next_dagrun_data_interval_end)
            try:
                _, run_id = create_dag_run(
                    conn,
                    dag,
                    serialized_id,
                    run_type=DagRunType.SCHEDULED,
                    logical_date=row.next_dagrun,
                    data_interval=interval,
                    run_after=row.next_dagrun_create_after,
                    triggered_by="timetable",
                )
                created.append((row.dag_id, run_id))
            except DagRunExists:
                log.info(
                    "DAG %s already has a run at %s; moving on to the next one", row.dag_id, row.next_dagrun
                )
            info = dag.timetable.next_dagrun_info(
                last_automated_data_interval=interval, restriction=_restriction(dag)
            )
            conn.execute(update(DagModel).where(DagModel.dag_id == row.dag_id).values(**_next_values(info)))
            self._computed_for[row.dag_id] = serialized_id
        return created

    def next_creation_time(self, conn: Connection) -> datetime | None:
        return conn.scalar(
            select(func.min(DagModel.next_dagrun_create_after)).where(
                DagModel.is_active.is_(True), DagModel.is_paused.is_(False)
            )
        )
