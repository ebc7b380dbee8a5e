"""Clearing task instances so that they run again (``updraft tasks clear``), as Airflow does.

Selection: tasks of the DAG's latest stored version whose id matches ``task_regex`` (``re.search``,
like Airflow's ``partial_subset``) plus, on request, all their upstream and/or downstream relatives;
runs by logical date (inclusive range) or run_id; optionally only ``failed``/``upstream_failed`` or
only ``running`` instances.

What clearing does to each selected task instance (Airflow's ``clear_task_instances``):

- a ``running`` instance becomes ``restarting``: whoever runs it must stop it, then retry it;
- any other becomes ``none`` (state NULL), ready for the scheduler;
- ``try_number`` is kept (the next attempt is ``try_number + 1``); ``max_tries`` becomes
  ``try_number + retries``, so the next attempt gets all its retries again;
- ``next_retry_at``/``reschedule_at`` are reset and its sensor reschedules deleted; pool, pool slots,
  queue, priority weight and operator are refreshed from the latest DAG version;
- XComs and the try history stay: the next attempt clears its XComs when it starts.

Each finished run (``success``/``failed``) that had an instance cleared goes back to ``queued`` with
``start_date``/``end_date``/``last_scheduling_decision`` reset; queued and running runs are left as
they are. Rows are locked in the fixed order dag_run, then task_instance (no-op on SQLite).

The caller owns the transaction and, after committing, should call
``updraft.core.scheduler.wakeup.notify_scheduler()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, and_, bindparam, delete, select, update

from updraft.core.dag_runs import latest_serialized
from updraft.core.db.models import DagRun, TaskInstance, TaskReschedule
from updraft.core.db.types import utcnow
from updraft.core.state_machine import check_run_transition, check_ti_transition
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.serialization import SerializedDag, priority_weights
from updraft.sdk.states import DagRunState, TaskInstanceState

__all__ = ["ClearError", "ClearedTI", "clear_task_instances", "select_task_ids"]

_TI: Table = TaskInstance.__table__  # type: ignore[assignment]
_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_RESCHEDULE: Table = TaskReschedule.__table__  # type: ignore[assignment]
_CHUNK = 500  # ids per IN (...) list, well under every backend's parameter limit
_FINISHED_RUN_STATES = (DagRunState.SUCCESS.value, DagRunState.FAILED.value)
_ONLY_FAILED_STATES = (TaskInstanceState.FAILED.value, TaskInstanceState.UPSTREAM_FAILED.value)


class ClearError(UpdraftException, ValueError):
    """The clear request is invalid (e.g. a task regex that does not compile)."""


class ClearedTI(NamedTuple):
    """A task instance picked for clearing, with its state before clearing."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    state: str | None

    def __str__(self) -> str:
        index = f" map_index={self.map_index}" if self.map_index >= 0 else ""
        return f"<TaskInstance: {self.dag_id}.{self.task_id} {self.run_id}{index} [{self.state or 'none'}]>"


def select_task_ids(
    dag: SerializedDag, task_regex: str | None, *, upstream: bool = False, downstream: bool = False
) -> set[str]:
    """Task ids matching ``task_regex`` (all without one), plus the requested relatives."""
    if task_regex is None:
        return set(dag.task_dict)
    try:
        pattern = re.compile(task_regex)
    except re.error as exc:
        raise ClearError(f"invalid task regex {task_regex!r}: {exc}") from None
    matched = {task_id for task_id in dag.task_dict if pattern.search(task_id)}
    selected = set(matched)
    for task_id in matched:
        task = dag.task_dict[task_id]
        if downstream:
            selected |= task.get_flat_relative_ids(upstream=False)
        if upstream:
            selected |= task.get_flat_relative_ids(upstream=True)
    return selected


def _aware(value: datetime | None, dag: SerializedDag) -> datetime | None:
    """A naive date is in the DAG's time zone, as for ``dags test`` and ``dags trigger``."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dag.timezone)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def clear_task_instances(
    conn: Connection,
    dag_id: str,
    *,
    task_regex: str | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    run_id: str | None = None,
    downstream: bool = False,
    upstream: bool = False,
    only_failed: bool = False,
    only_running: bool = False,
    dry_run: bool = False,
) -> list[ClearedTI]:
    """Clear the selected task instances (see the module docstring); returns them, oldest run first.

    ``start_date``/``end_date`` bound the runs' logical dates (inclusive; naive ones are in the
    DAG's time zone). With
    ``dry_run`` nothing changes. Raises DagNotStored for a DAG not in the DB, ClearError for a bad
    regex.
    """
    _, dag = latest_serialized(conn, dag_id)
    start_date, end_date = _aware(start_date, dag), _aware(end_date, dag)
    task_ids = sorted(select_task_ids(dag, task_regex, upstream=upstream, downstream=downstream))
    if not task_ids:
        return []
    run_filter = [_RUN.c.dag_id == dag_id]
    if start_date is not None:
        run_filter.append(_RUN.c.logical_date >= start_date)
    if end_date is not None:
        run_filter.append(_RUN.c.logical_date <= end_date)
    if run_id is not None:
        run_filter.append(_RUN.c.run_id == run_id)
    if not dry_run:  # lock order: dag_run rows, then task_instance rows
        conn.execute(select(_RUN.c.id).where(*run_filter).order_by(_RUN.c.id).with_for_update()).all()

    query = (
        select(_TI.c.id, _TI.c.run_id, _TI.c.task_id, _TI.c.map_index, _TI.c.state, _TI.c.try_number)
        .join(_RUN, and_(_RUN.c.dag_id == _TI.c.dag_id, _RUN.c.run_id == _TI.c.run_id))
        .where(*run_filter, _TI.c.task_id.in_(task_ids))
        .order_by(_RUN.c.logical_date, _RUN.c.id, _TI.c.task_id, _TI.c.map_index)
    )
    if only_failed:
        query = query.where(_TI.c.state.in_(_ONLY_FAILED_STATES))
    if only_running:
        query = query.where(_TI.c.state == TaskInstanceState.RUNNING.value)
    if not dry_run:
        query = query.with_for_update(of=_TI)
    rows = conn.execute(query).all()
    picked = [ClearedTI(dag_id, r.run_id, r.task_id, r.map_index, r.state) for r in rows]
    if dry_run or not rows:
        return picked
    _reset_tis(conn, dag, rows)
    _delete_reschedules(conn, dag_id, picked)
    _requeue_runs(conn, dag_id, sorted({r.run_id for r in rows}))
    return picked


def _reset_tis(conn: Connection, dag: SerializedDag, rows: Sequence[Any]) -> None:
    weights = priority_weights(dag)
    params = []
    for row in rows:
        task = dag.task_dict[row.task_id]
        new_state = TaskInstanceState.RESTARTING.value if row.state == TaskInstanceState.RUNNING else None
        check_ti_transition(
            row.state,
            new_state,
            what=f"task {row.task_id!r} (map index {row.map_index}) of run {row.run_id!r} in DAG {dag.dag_id!r}",
            manual=True,
        )
        params.append(
            {
                "b_id": row.id,
                "b_state": new_state,
                "b_max_tries": int(row.try_number) + int(task.retries),
                "b_pool": task.pool,
                "b_pool_slots": task.pool_slots,
                "b_queue": task.queue,
                "b_priority": weights.get(task.task_id, 1),
                "b_operator": task.operator_name,
            }
        )
    conn.execute(
        update(_TI)
        .where(_TI.c.id == bindparam("b_id"))
        .values(
            state=bindparam("b_state"),
            max_tries=bindparam("b_max_tries"),
            next_retry_at=None,
            reschedule_at=None,
            pool=bindparam("b_pool"),
            pool_slots=bindparam("b_pool_slots"),
            queue=bindparam("b_queue"),
            priority_weight=bindparam("b_priority"),
            operator=bindparam("b_operator"),
            updated_at=utcnow(),
        ),
        params,
    )


def _delete_reschedules(conn: Connection, dag_id: str, picked: Sequence[ClearedTI]) -> None:
    conn.execute(
        delete(_RESCHEDULE).where(
            _RESCHEDULE.c.dag_id == dag_id,
            _RESCHEDULE.c.run_id == bindparam("b_run"),
            _RESCHEDULE.c.task_id == bindparam("b_task"),
            _RESCHEDULE.c.map_index == bindparam("b_index"),
        ),
        [{"b_run": ti.run_id, "b_task": ti.task_id, "b_index": ti.map_index} for ti in picked],
    )


def _requeue_runs(conn: Connection, dag_id: str, run_ids: Sequence[str]) -> None:
    """Finished runs among ``run_ids`` go back to queued, as if never started."""
    finished: list[str] = []
    for chunk in _chunks(run_ids):
        for row in conn.execute(
            select(_RUN.c.run_id, _RUN.c.state).where(
                _RUN.c.dag_id == dag_id,
                _RUN.c.run_id.in_(chunk),
                _RUN.c.state.in_(_FINISHED_RUN_STATES),
            )
        ):
            check_run_transition(row.state, DagRunState.QUEUED, what=f"run {row.run_id!r} of DAG {dag_id!r}")
            finished.append(row.run_id)
    now = utcnow()
    for chunk in _chunks(finished):
        conn.execute(
            update(_RUN)
            .where(_RUN.c.dag_id == dag_id, _RUN.c.run_id.in_(chunk))
            .values(
                state=DagRunState.QUEUED.value,
                queued_at=now,
                start_date=None,
                end_date=None,
                last_scheduling_decision=None,
            )
        )
