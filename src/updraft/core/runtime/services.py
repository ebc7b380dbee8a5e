"""The metadata-DB implementation of ``updraft.sdk.runtime_services.RuntimeServices``.

Operators (``TriggerDagRunOperator``, ``ExternalTaskSensor``, sensors in reschedule mode) reach the
runtime only through that protocol; :func:`install_runtime_services` puts a :class:`DbRuntimeServices`
in place for the current process (``updraft dags test`` does it in ``prepare_engine``, the scheduler
in each task process). Each method is one short transaction of set-based statements.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from updraft.core.clear import clear_task_instances
from updraft.core.dag_runs import DagNotStored, DagRunExists, create_dag_run, latest_serialized
from updraft.core.db.engine import get_engine
from updraft.core.db.models import DagModel, DagRun, TaskInstance, TaskReschedule
from updraft.core.scheduler.wakeup import notify_scheduler
from updraft.core.secrets_chain import export_file_settings, install_secrets_chain
from updraft.sdk.runtime_services import (
    DagRunAlreadyExists,
    RuntimeServices,
    StoredDagInfo,
    UnknownDagError,
    install_services,
)
from updraft.sdk.serialization import SerializedDag
from updraft.sdk.states import DagRunType

__all__ = ["DbRuntimeServices", "install_runtime_services"]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _group_task_ids(dag: SerializedDag, group_id: str) -> list[str]:
    for group in dag.task_group.iter_groups():
        if group.group_id == group_id:
            return [task.task_id for task in group.iter_tasks()]
    return []


class DbRuntimeServices:
    """Answers operators' questions from the metadata DB reached through ``engine``."""

    def __init__(self, engine: Engine | None = None) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine if self._engine is not None else get_engine()

    # -- triggering ----------------------------------------------------------------------------

    def trigger_dag_run(
        self,
        dag_id: str,
        *,
        run_id: str | None,
        logical_date: datetime | None,
        conf: Mapping[str, Any] | None,
        replace_existing: bool = False,
        triggered_by: str = "operator",
    ) -> str:
        logical_date = _aware(logical_date) if logical_date is not None else None
        with self.engine.begin() as conn:
            try:
                serialized_id, dag = latest_serialized(conn, dag_id)
            except DagNotStored as exc:
                raise UnknownDagError(str(exc)) from None
            try:
                _, new_run_id = create_dag_run(
                    conn,
                    dag,
                    serialized_id,
                    run_type=DagRunType.MANUAL,
                    logical_date=logical_date,
                    conf=dict(conf or {}),
                    run_id=run_id,
                    triggered_by=triggered_by,
                )
            except DagRunExists as exc:
                if not replace_existing:
                    raise DagRunAlreadyExists(str(exc)) from None
                new_run_id = _reset_run(conn, dag, run_id, logical_date)
        notify_scheduler()
        return new_run_id

    # -- reading -------------------------------------------------------------------------------

    def get_dag_run_state(self, dag_id: str, run_id: str) -> str | None:
        with self.engine.connect() as conn:
            state = conn.scalar(select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        return str(state) if state is not None else None

    def count_task_instances(
        self,
        dag_id: str,
        *,
        logical_dates: Collection[datetime] | None = None,
        run_ids: Collection[str] | None = None,
        task_ids: Collection[str] | None = None,
        task_group_id: str | None = None,
        states: Collection[str | None] | None = None,
    ) -> int:
        with self.engine.connect() as conn:
            if task_group_id is not None:
                try:
                    _, dag = latest_serialized(conn, dag_id)
                except DagNotStored:
                    return 0
                task_ids = _group_task_ids(dag, task_group_id)
                if not task_ids:
                    return 0
            query = select(func.count()).select_from(TaskInstance).where(TaskInstance.dag_id == dag_id)
            if logical_dates is not None:
                dates = [_aware(d) for d in logical_dates]
                query = query.join(
                    DagRun, and_(DagRun.dag_id == TaskInstance.dag_id, DagRun.run_id == TaskInstance.run_id)
                ).where(DagRun.logical_date.in_(dates))
            if run_ids is not None:
                query = query.where(TaskInstance.run_id.in_(list(run_ids)))
            if task_ids is not None:
                query = query.where(TaskInstance.task_id.in_(list(task_ids)))
            if states is not None:
                query = query.where(_state_filter(TaskInstance.state, states))
            return int(conn.scalar(query) or 0)

    def count_dag_runs(
        self,
        dag_id: str,
        *,
        logical_dates: Collection[datetime] | None = None,
        run_ids: Collection[str] | None = None,
        states: Collection[str] | None = None,
    ) -> int:
        query = select(func.count()).select_from(DagRun).where(DagRun.dag_id == dag_id)
        if logical_dates is not None:
            query = query.where(DagRun.logical_date.in_([_aware(d) for d in logical_dates]))
        if run_ids is not None:
            query = query.where(DagRun.run_id.in_(list(run_ids)))
        if states is not None:
            query = query.where(DagRun.state.in_(list(states)))
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def first_reschedule_start(
        self, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
    ) -> datetime | None:
        with self.engine.connect() as conn:
            value = conn.scalar(
                select(func.min(TaskReschedule.start_date)).where(
                    TaskReschedule.dag_id == dag_id,
                    TaskReschedule.run_id == run_id,
                    TaskReschedule.task_id == task_id,
                    TaskReschedule.map_index == map_index,
                    TaskReschedule.try_number == try_number,
                )
            )
        if value is None:
            return None
        # MIN() loses the column type on some backends: read it back as an aware UTC datetime.
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return _aware(value)

    def get_stored_dag(self, dag_id: str) -> StoredDagInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(DagModel.fileloc, DagModel.is_paused).where(DagModel.dag_id == dag_id)
            ).first()
            if row is None:
                return None
            try:
                _, dag = latest_serialized(conn, dag_id)
            except DagNotStored:
                return StoredDagInfo(dag_id=dag_id, fileloc=row.fileloc, is_paused=bool(row.is_paused))
        return StoredDagInfo(
            dag_id=dag_id,
            fileloc=row.fileloc,
            is_paused=bool(row.is_paused),
            task_ids=frozenset(dag.task_dict),
            task_group_ids=frozenset(g.group_id for g in dag.task_group.iter_groups() if g.group_id),
        )


def _state_filter(column: Any, states: Collection[str | None]) -> ColumnElement[bool]:
    named = [state for state in states if state is not None]
    condition: ColumnElement[bool] = column.in_(named)
    if len(named) < len(list(states)):
        condition = or_(condition, column.is_(None))
    return condition


def _reset_run(
    conn: Connection, dag: SerializedDag, run_id: str | None, logical_date: datetime | None
) -> str:
    """Clear the existing run with this run_id (or logical date) so that it runs again.

    ``reset_dag_run=True`` in Airflow clears the whole run (``dag.clear``): every task instance goes
    back to no state with its retries restored, and a finished run is queued again.
    """
    match = []
    if run_id is not None:
        match.append(DagRun.run_id == run_id)
    if logical_date is not None:
        match.append(DagRun.logical_date == logical_date)
    existing = conn.scalar(
        select(DagRun.run_id).where(DagRun.dag_id == dag.dag_id, or_(*match)).order_by(DagRun.id).limit(1)
    )
    if existing is None:  # deleted in between: nothing left to reset
        raise DagRunAlreadyExists(f"DAG {dag.dag_id!r}: the run to reset ({run_id or logical_date}) is gone")
    clear_task_instances(conn, dag.dag_id, run_id=str(existing))
    return str(existing)


def install_runtime_services(engine: Engine | None = None) -> RuntimeServices:
    """Install DB-backed runtime services in this process (``engine`` or the configured one)."""
    services = DbRuntimeServices(engine)
    install_services(services)
    install_secrets_chain(engine)
    export_file_settings("smtp")
    return services
