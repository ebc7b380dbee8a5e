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

With ``dependent_dags`` (Airflow's "recursive"), each selected ``ExternalTaskMarker`` also selects
its external task and that task's downstream tasks in the external DAG's run at the marker's
logical date (its rendered value if the marker ran, else its template rendered in a sandbox with
the run's dates), following markers found there too, at most the first marker's
``recursion_depth`` hops deep (deeper is an error naming the marker: a cycle, or too much).

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
from typing import Any, NamedTuple, cast

from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import Connection, Table, and_, bindparam, delete, select, update

from updraft.core.dag_runs import DagNotStored, latest_serialized
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
    dependent_dags: bool = False,
    dry_run: bool = False,
) -> list[ClearedTI]:
    """Clear the selected task instances (see the module docstring); returns them, oldest run first
    (then those of dependent DAGs).

    ``start_date``/``end_date`` bound the runs' logical dates (inclusive; naive ones are in the
    DAG's time zone). With
    ``dry_run`` nothing changes. Raises DagNotStored for a DAG not in the DB, ClearError for a bad
    regex or a marker chain deeper than its ``recursion_depth``.
    """
    picked = _clear_one(
        conn,
        dag_id,
        task_regex=task_regex,
        start_date=start_date,
        end_date=end_date,
        run_id=run_id,
        downstream=downstream,
        upstream=upstream,
        only_failed=only_failed,
        only_running=only_running,
        dry_run=dry_run,
    )
    if not dependent_dags:
        return picked
    seen = {(ti.dag_id, ti.run_id, ti.task_id, ti.map_index) for ti in picked}
    result = list(picked)
    pending: list[tuple[list[ClearedTI], int | None, int | None]] = [(picked, None, None)]
    while pending:
        batch, left, most = pending.pop(0)
        for marker in _markers(conn, batch):
            hops_left = marker.depth if left is None else left
            deepest = marker.depth if most is None else most
            if hops_left <= 0:
                raise ClearError(
                    f"maximum recursion depth {deepest} reached at ExternalTaskMarker {marker.task_id!r} of "
                    f"DAG {marker.dag_id!r}: the markers clear too many tasks, or they form a cycle"
                )
            found = _clear_one(
                conn,
                marker.external_dag_id,
                task_regex=f"^{re.escape(marker.external_task_id)}$",
                start_date=marker.logical_date,
                end_date=marker.logical_date,
                downstream=True,
                only_failed=only_failed,
                only_running=only_running,
                dry_run=dry_run,
                missing_ok=True,
            )
            fresh = [ti for ti in found if (ti.dag_id, ti.run_id, ti.task_id, ti.map_index) not in seen]
            seen.update((ti.dag_id, ti.run_id, ti.task_id, ti.map_index) for ti in fresh)
            result.extend(fresh)
            if fresh:
                pending.append((fresh, hops_left - 1, deepest))
    return result


class _Marker(NamedTuple):
    dag_id: str
    task_id: str
    external_dag_id: str
    external_task_id: str
    logical_date: datetime
    depth: int


def _markers(conn: Connection, picked: Sequence[ClearedTI]) -> list[_Marker]:
    """The ExternalTaskMarkers among ``picked``, with the external logical date each points at."""
    if not picked:
        return []
    _, dag = latest_serialized(conn, picked[0].dag_id)
    chosen = [ti for ti in picked if ti.task_id in dag.task_dict and _is_marker(dag.task_dict[ti.task_id])]
    if not chosen:
        return []
    runs = {
        row.run_id: row
        for row in conn.execute(
            select(
                _RUN.c.run_id,
                _RUN.c.logical_date,
                _RUN.c.data_interval_start,
                _RUN.c.data_interval_end,
            ).where(_RUN.c.dag_id == dag.dag_id, _RUN.c.run_id.in_(sorted({ti.run_id for ti in chosen})))
        )
    }
    rendered = {
        (row.run_id, row.task_id, row.map_index): row.rendered_fields
        for row in conn.execute(
            select(_TI.c.run_id, _TI.c.task_id, _TI.c.map_index, _TI.c.rendered_fields).where(
                _TI.c.dag_id == dag.dag_id,
                _TI.c.run_id.in_(sorted(runs)),
                _TI.c.task_id.in_(sorted({ti.task_id for ti in chosen})),
            )
        )
    }
    markers = []
    for ti in chosen:
        task = dag.task_dict[ti.task_id]
        fields = rendered.get((ti.run_id, ti.task_id, ti.map_index)) or {}
        values = {**task.template_values, **{k: v for k, v in fields.items() if isinstance(v, str)}}
        run = runs.get(ti.run_id)
        if run is None:
            continue
        markers.append(
            _Marker(
                dag_id=dag.dag_id,
                task_id=ti.task_id,
                external_dag_id=str(values.get("external_dag_id")),
                external_task_id=str(values.get("external_task_id")),
                logical_date=_marker_date(values.get("logical_date"), run, ti, dag),
                depth=int(task.extra.get("recursion_depth") or 10),
            )
        )
    return markers


def _is_marker(task: Any) -> bool:
    return bool(task.task_type == "ExternalTaskMarker" or "recursion_depth" in task.extra)


def _marker_date(value: Any, run: Any, ti: ClearedTI, dag: SerializedDag) -> datetime:
    """The marker's logical date: an ISO string, or a template rendered with the run's dates only."""
    what = f"ExternalTaskMarker {ti.task_id!r} of DAG {dag.dag_id!r} (run {ti.run_id!r})"
    if value is None:
        if run.logical_date is None:
            raise ClearError(f"{what}: its run has no logical date to follow")
        return cast(datetime, run.logical_date)
    text = str(value)
    if "{{" in text or "{%" in text:
        logical = run.logical_date
        context = {
            "logical_date": logical,
            "execution_date": logical,
            "data_interval_start": run.data_interval_start,
            "data_interval_end": run.data_interval_end,
            "ds": logical.strftime("%Y-%m-%d") if logical else None,
            "ds_nodash": logical.strftime("%Y%m%d") if logical else None,
            "ts": logical.isoformat() if logical else None,
            "run_id": ti.run_id,
        }
        try:
            text = ImmutableSandboxedEnvironment().from_string(text).render(context)
        except Exception as exc:  # noqa: BLE001 - any template error is the marker's, named here
            raise ClearError(f"{what}: cannot render its logical_date {value!r}: {exc}") from None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClearError(f"{what}: its logical_date {text!r} is not an ISO date and time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dag.timezone)


def _clear_one(
    conn: Connection,
    dag_id: str,
    *,
    task_regex: str | None,
    start_date: datetime | None,
    end_date: datetime | None,
    run_id: str | None = None,
    downstream: bool,
    upstream: bool = False,
    only_failed: bool,
    only_running: bool,
    dry_run: bool,
    missing_ok: bool = False,
) -> list[ClearedTI]:
    """Clear in one DAG; ``missing_ok``: a DAG not stored (a marker's target) selects nothing."""
    try:
        _, dag = latest_serialized(conn, dag_id)
    except DagNotStored:
        if missing_ok:
            return []
        raise
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
