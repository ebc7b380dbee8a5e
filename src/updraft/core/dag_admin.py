"""Managing stored DAGs by hand, as Airflow's ``dags`` commands do: pause and unpause, trigger a
run, read a run's state, predict the next logical dates, and delete a DAG's metadata.

Everything works from the metadata DB (the DAG must have been parsed); no DAG file is imported.
Functions take a ``Connection`` inside the caller's transaction and never commit. After committing
an unpause or a trigger, the caller should wake the scheduler
(``updraft.core.scheduler.wakeup.notify_scheduler()``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from updraft.core.dag_runs import DagNotStored, create_dag_run, latest_serialized
from updraft.core.db.models import (
    DagCode,
    DagModel,
    DagRun,
    DagTag,
    ParseImportError,
    SerializedDagModel,
    TaskInstance,
    TaskInstanceHistory,
    TaskReschedule,
    XCom,
)
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.serialization import SerializedDag
from updraft.sdk.states import DagRunState, DagRunType, TaskInstanceState
from updraft.sdk.timetables import DagRunInfo, DataInterval, TimeRestriction

__all__ = [
    "RUN_ID_PATTERN",
    "DagAdminError",
    "DagInfo",
    "DagRunNotFound",
    "RunStateInfo",
    "delete_dag",
    "find_dags",
    "get_dag_info",
    "last_automated_data_interval",
    "next_executions",
    "run_state",
    "set_paused",
    "time_restriction",
    "trigger_dag",
]

#: Airflow's default ``[scheduler] allowed_run_id_pattern``; generated run ids match it too.
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.~:+-]+$")
_MAX_RUN_ID = 250
_DAG: Table = DagModel.__table__  # type: ignore[assignment]
_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_TI: Table = TaskInstance.__table__  # type: ignore[assignment]
#: Tables holding a DAG's rows, children before parents (the order ``delete_dag`` empties them).
_DAG_TABLES: tuple[type[Any], ...] = (
    XCom,
    TaskReschedule,
    TaskInstanceHistory,
    TaskInstance,
    DagRun,
    SerializedDagModel,
    DagTag,
    DagModel,
)


class DagAdminError(UpdraftException, ValueError):
    """A request about a stored DAG is invalid or not allowed now; the message says why."""


class DagRunNotFound(DagAdminError, LookupError):
    """The DAG has no run with this run_id or logical date."""


@dataclass(frozen=True)
class DagInfo:
    """The row of one stored DAG, with the next run the scheduler plans (if it set one)."""

    dag_id: str
    is_paused: bool
    is_active: bool
    fileloc: str | None
    next_dagrun: datetime | None = None
    next_dagrun_data_interval_start: datetime | None = None
    next_dagrun_data_interval_end: datetime | None = None
    next_dagrun_create_after: datetime | None = None


@dataclass(frozen=True)
class RunStateInfo:
    """The state of one DAG run, and its conf."""

    run_id: str
    state: str
    conf: dict[str, Any]


def _not_stored(dag_id: str) -> DagNotStored:
    return DagNotStored(
        f"DAG {dag_id!r} is not in the metadata DB: is its file in the DAG folder, and has it been "
        "parsed? (see `updraft dags list` and `updraft dags list-import-errors`)"
    )


def _dag_info(row: Any) -> DagInfo:
    return DagInfo(
        row.dag_id,
        bool(row.is_paused),
        bool(row.is_active),
        row.fileloc,
        row.next_dagrun,
        row.next_dagrun_data_interval_start,
        row.next_dagrun_data_interval_end,
        row.next_dagrun_create_after,
    )


def _select_dags() -> Any:
    c = _DAG.c
    return select(
        c.dag_id,
        c.is_paused,
        c.is_active,
        c.fileloc,
        c.next_dagrun,
        c.next_dagrun_data_interval_start,
        c.next_dagrun_data_interval_end,
        c.next_dagrun_create_after,
    )


def get_dag_info(conn: Connection, dag_id: str) -> DagInfo:
    """The stored DAG ``dag_id``; raises DagNotStored if it was never parsed (or was deleted)."""
    row = conn.execute(_select_dags().where(_DAG.c.dag_id == dag_id)).first()
    if row is None:
        raise _not_stored(dag_id)
    return _dag_info(row)


def find_dags(conn: Connection, dag_id: str, *, regex: bool = False) -> list[DagInfo]:
    """The DAG ``dag_id``, or with ``regex`` every DAG whose id matches it (``re.search``)."""
    if not regex:
        return [get_dag_info(conn, dag_id)]
    try:
        pattern = re.compile(dag_id)
    except re.error as exc:
        raise DagAdminError(f"invalid DAG id regex {dag_id!r}: {exc}") from None
    rows = conn.execute(_select_dags().order_by(_DAG.c.dag_id)).all()
    return [_dag_info(row) for row in rows if pattern.search(row.dag_id)]


def set_paused(conn: Connection, dag_ids: Collection[str], paused: bool) -> list[str]:
    """Pause (or unpause) these DAGs; returns the ids whose flag changed, sorted."""
    if not dag_ids:
        return []
    changing = sorted(
        conn.scalars(
            select(_DAG.c.dag_id).where(_DAG.c.dag_id.in_(list(dag_ids)), _DAG.c.is_paused.is_not(paused))
        )
    )
    if changing:
        conn.execute(update(_DAG).where(_DAG.c.dag_id.in_(changing)).values(is_paused=paused))
    return changing


def run_state(conn: Connection, dag_id: str, run_id_or_logical_date: str) -> RunStateInfo:
    """The state of the run with this run_id, else with this logical date (ISO 8601; a naive one is
    in the DAG's time zone)."""
    get_dag_info(conn, dag_id)
    columns = select(_RUN.c.run_id, _RUN.c.state, _RUN.c.conf)
    row = conn.execute(
        columns.where(_RUN.c.dag_id == dag_id, _RUN.c.run_id == run_id_or_logical_date)
    ).first()
    if row is None:
        try:
            when = datetime.fromisoformat(run_id_or_logical_date)
        except ValueError:
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=latest_serialized(conn, dag_id)[1].timezone)
            row = conn.execute(columns.where(_RUN.c.dag_id == dag_id, _RUN.c.logical_date == when)).first()
    if row is None:
        raise DagRunNotFound(
            f"DAG {dag_id!r} has no run with run_id or logical date {run_id_or_logical_date!r} "
            f"(see `updraft dags list-runs {dag_id}`)"
        )
    return RunStateInfo(row.run_id, row.state, dict(row.conf or {}))


def trigger_dag(
    conn: Connection,
    dag_id: str,
    *,
    conf: dict[str, Any] | None = None,
    run_id: str | None = None,
    logical_date: datetime | None = None,
    replace_microseconds: bool = True,
    triggered_by: str = "cli",
) -> dict[str, Any]:
    """Create a manual run (state queued) of the DAG's latest version.

    ``logical_date`` defaults to now; a naive one is in the DAG's time zone. Raises DagNotStored,
    DagAdminError (inactive DAG, bad run_id), ParamValidationError (conf does not match the
    params; nothing is created) and DagRunExists. Returns the new run's row.
    """
    info = get_dag_info(conn, dag_id)
    if not info.is_active:
        raise DagAdminError(
            f"DAG {dag_id!r} is no longer active (its file {info.fileloc} no longer defines it); "
            "it cannot be triggered"
        )
    if run_id is not None and (not RUN_ID_PATTERN.match(run_id) or len(run_id) > _MAX_RUN_ID):
        raise DagAdminError(
            f"invalid run_id {run_id!r}: use at most {_MAX_RUN_ID} letters, digits and _.~:+-"
        )
    serialized_id, dag = latest_serialized(conn, dag_id)
    if logical_date is None:
        logical_date = datetime.now(timezone.utc)
    elif logical_date.tzinfo is None:
        logical_date = logical_date.replace(tzinfo=dag.timezone)
    logical_date = logical_date.astimezone(timezone.utc)
    if replace_microseconds:
        logical_date = logical_date.replace(microsecond=0)
    _, new_run_id = create_dag_run(
        conn,
        dag,
        serialized_id,
        run_type=DagRunType.MANUAL,
        logical_date=logical_date,
        conf=conf,
        run_id=run_id,
        state=DagRunState.QUEUED,
        triggered_by=triggered_by,
    )
    row = (
        conn.execute(select(_RUN).where(_RUN.c.dag_id == dag_id, _RUN.c.run_id == new_run_id))
        .mappings()
        .one()
    )
    return dict(row)


def delete_dag(conn: Connection, dag_id: str) -> int:
    """Delete every row about the DAG (runs, task instances, XComs, try history, reschedules,
    serialized versions, tags, the DAG itself) and its file's import error; its file's source is
    deleted too unless another DAG comes from the same file. Returns how many rows were deleted.

    Refused while any of its task instances is running (as in Airflow).
    """
    info = get_dag_info(conn, dag_id)
    running = conn.scalar(
        select(_TI.c.id)
        .where(_TI.c.dag_id == dag_id, _TI.c.state == TaskInstanceState.RUNNING.value)
        .limit(1)
    )
    if running is not None:
        raise DagAdminError(
            f"DAG {dag_id!r} has running task instances: wait for them to finish (or clear them), "
            "then delete it"
        )
    count = 0
    for model in _DAG_TABLES:
        count += conn.execute(delete(model).where(model.dag_id == dag_id)).rowcount or 0
    if info.fileloc:
        conn.execute(delete(ParseImportError).where(ParseImportError.filename == info.fileloc))
        shared = conn.scalar(select(_DAG.c.dag_id).where(_DAG.c.fileloc == info.fileloc).limit(1))
        if shared is None:
            conn.execute(delete(DagCode).where(DagCode.fileloc == info.fileloc))
    return count


def time_restriction(dag: SerializedDag) -> TimeRestriction:
    """When automated runs may happen, from the DAG's and its tasks' start and end dates (Airflow)."""
    starts = [t.start_date for t in dag.tasks if t.start_date is not None]
    if dag.start_date is not None:
        starts.append(dag.start_date)
    latest = dag.end_date
    ends = [t.end_date for t in dag.tasks if t.end_date is not None]
    if ends and len(ends) == len(dag.tasks):  # every task ends: the last of them bounds the DAG
        if dag.end_date is not None:
            ends.append(dag.end_date)
        latest = max(ends)
    return TimeRestriction(min(starts) if starts else None, latest, dag.catchup)


def last_automated_data_interval(conn: Connection, dag_id: str) -> DataInterval | None:
    """The data interval of the DAG's latest scheduled run (by logical date), or None."""
    row = conn.execute(
        select(_RUN.c.logical_date, _RUN.c.data_interval_start, _RUN.c.data_interval_end)
        .where(_RUN.c.dag_id == dag_id, _RUN.c.run_type == DagRunType.SCHEDULED.value)
        .where(_RUN.c.logical_date.is_not(None))
        .order_by(_RUN.c.logical_date.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    if row.data_interval_start is not None and row.data_interval_end is not None:
        return DataInterval(row.data_interval_start, row.data_interval_end)
    return DataInterval.exact(row.logical_date)


def next_executions(conn: Connection, dag_id: str, num: int = 1) -> list[datetime]:
    """The logical dates of the DAG's next ``num`` automated runs; fewer (or none) when the
    timetable ends, and none for a DAG that runs only when triggered.

    The first is the scheduler's plan (``dag.next_dagrun``) when it made one, else what the
    timetable gives after the latest scheduled run, under the DAG's start/end dates and catchup.
    The ones after it follow on from it, as if each run were created on time.
    """
    if num < 1:
        raise DagAdminError(f"the number of dates must be 1 or more, not {num}")
    info = get_dag_info(conn, dag_id)
    _, dag = latest_serialized(conn, dag_id)
    timetable = dag.timetable
    if not timetable.can_be_scheduled:
        return []
    restriction = time_restriction(dag)
    current: DagRunInfo | None
    if info.next_dagrun is not None:
        start = info.next_dagrun_data_interval_start or info.next_dagrun
        end = info.next_dagrun_data_interval_end or info.next_dagrun
        run_after = info.next_dagrun_create_after or end
        current = DagRunInfo(run_after, DataInterval(start, end), logical_date=info.next_dagrun)
    else:
        current = timetable.next_dagrun_info(
            last_automated_data_interval=last_automated_data_interval(conn, dag_id), restriction=restriction
        )
    following = TimeRestriction(restriction.earliest, restriction.latest, catchup=True)
    dates: list[datetime] = []
    while current is not None and len(dates) < num:
        if dates and current.logical_date <= dates[-1]:
            break  # a timetable that does not move forward (e.g. continuous) has no further dates
        dates.append(current.logical_date)
        if len(dates) < num:
            current = timetable.next_dagrun_info(
                last_automated_data_interval=current.data_interval, restriction=following
            )
    return dates
