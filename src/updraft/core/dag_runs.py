"""Creating DAG runs from the stored (serialized) DAG: run row plus one task instance per task.

Used by the scheduler for timetable runs, by ``updraft dags trigger`` and by backfills. The run
conf is validated against the DAG's params first, so a bad conf creates nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from updraft.core.db.models import DagRun, SerializedDagModel
from updraft.core.runtime import run_store
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.params import merge_conf_into_params
from updraft.sdk.serialization import SerializedDag, deserialize_dag, priority_weights
from updraft.sdk.states import DagRunState, DagRunType
from updraft.sdk.timetables import DataInterval


class DagRunExists(UpdraftException):
    """A run with this run_id or logical date already exists for the DAG."""


class DagNotStored(UpdraftException):
    """The DAG has not been parsed into the metadata DB (yet)."""


def latest_serialized(conn: Connection, dag_id: str) -> tuple[int, SerializedDag]:
    row = conn.execute(
        select(SerializedDagModel.id, SerializedDagModel.data)
        .where(SerializedDagModel.dag_id == dag_id)
        .order_by(SerializedDagModel.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise DagNotStored(
            f"DAG {dag_id!r} is not in the metadata DB: is its file in the DAG folder, and has the "
            "DAG processor parsed it? (see `updraft dags list` and `updraft dags list-import-errors`)"
        )
    return int(row.id), deserialize_dag(row.data)


def create_dag_run(
    conn: Connection,
    dag: SerializedDag | DAG,
    serialized_dag_id: int | None,
    *,
    run_type: DagRunType,
    logical_date: datetime | None,
    data_interval: DataInterval | None = None,
    run_after: datetime | None = None,
    conf: dict[str, Any] | None = None,
    run_id: str | None = None,
    state: DagRunState = DagRunState.QUEUED,
    triggered_by: str = "scheduler",
    priority: dict[str, int] | None = None,
) -> tuple[int, str]:
    """Insert a run and its task instances; returns (run row id, run_id).

    Raises ParamValidationError for a conf that does not match the params, and DagRunExists
    when the run_id or the logical date is taken.
    """
    merge_conf_into_params(dag.params, conf)
    now = datetime.now(timezone.utc)
    run_after = run_after or logical_date or now
    if data_interval is None and logical_date is not None:
        data_interval = dag.timetable.infer_manual_data_interval(run_after=logical_date)
    if run_id is None:
        stamp = (logical_date or run_after).isoformat()
        run_id = run_type.generate_run_id(stamp)
    exists = conn.execute(
        select(DagRun.run_id).where(
            DagRun.dag_id == dag.dag_id,
            (DagRun.run_id == run_id) | ((DagRun.logical_date == logical_date) if logical_date else False),
        )
    ).first()
    if exists is not None:
        raise DagRunExists(
            f"DAG {dag.dag_id!r} already has a run {exists.run_id!r} for this run_id or logical date"
        )
    try:
        with conn.begin_nested():
            run_pk = conn.execute(
                insert(DagRun).returning(DagRun.id),
                {
                    "dag_id": dag.dag_id,
                    "run_id": run_id,
                    "logical_date": logical_date,
                    "data_interval_start": data_interval.start if data_interval else None,
                    "data_interval_end": data_interval.end if data_interval else None,
                    "run_after": run_after,
                    "queued_at": now,
                    "start_date": now if state is DagRunState.RUNNING else None,
                    "run_type": run_type.value,
                    "state": state.value,
                    "conf": dict(conf or {}),
                    "triggered_by": triggered_by,
                    "serialized_dag_id": serialized_dag_id,
                },
            ).scalar_one()
            weights = priority if priority is not None else priority_weights(dag)
            run_store.insert_tis(
                conn,
                dag.dag_id,
                run_id,
                [run_store.ti_row_for(task, weights.get(task.task_id, 1)) for task in dag.tasks],
            )
    except IntegrityError:
        raise DagRunExists(
            f"DAG {dag.dag_id!r} already has a run {run_id!r} (or one at {logical_date})"
        ) from None
    return int(run_pk), run_id
