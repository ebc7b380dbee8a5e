"""``GET /ui/grid/{dag_id}``: the Grid tab's data, in at most five queries whatever the DAG's size.

Runs are columns (oldest first), task rows follow the TaskGroup tree in dependency order, and
each row carries one state per run: a task's own, a mapped task's summary over its map indexes
(with their count), a group's summary over its tasks. The answer has an ETag so a page polling
an unchanged grid gets a 304, and built answers are kept while a cheap stamp of the runs and their
task instances is unchanged, so many viewers of one busy DAG cost one build per change.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import Table, func, select

from updraft.api.response_cache import StampedCache
from updraft.api.routes.deps import Conn
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.api.ui.dag_cache import latest_dag
from updraft.core.dag_runs import DagNotStored
from updraft.core.db.models import DagRun, TaskInstance
from updraft.sdk.serialization import SerializedDag, SerializedTask, SerializedTaskGroup

__all__ = ["grid_rows", "router", "summarize"]

router = APIRouter(prefix="/ui", tags=["UI"], include_in_schema=False)
_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_TI: Table = TaskInstance.__table__  # type: ignore[assignment]

#: When tasks of a group (or map indexes of a task) differ, the summary shows the first state of
#: this list that any of them has: what needs attention first, then what is still moving.
_SUMMARY_ORDER = (
    "failed",
    "upstream_failed",
    "up_for_retry",
    "up_for_reschedule",
    "restarting",
    "running",
    "deferred",
    "queued",
    "scheduled",
    None,
    "success",
    "skipped",
    "removed",
)
_RANK = {state: rank for rank, state in enumerate(_SUMMARY_ORDER)}


def summarize(states: list[str | None]) -> str | None:
    """The one state that stands for several (see ``_SUMMARY_ORDER``); None for no instances."""
    if not states:
        return None
    return min(states, key=lambda s: _RANK.get(s, len(_RANK)))


def grid_rows(dag: SerializedDag) -> list[dict[str, Any]]:
    """Rows in display order: each group before its children, siblings in dependency order."""
    order = {task.task_id: index for index, task in enumerate(dag.topological_sort())}

    def first(node: SerializedTask | SerializedTaskGroup) -> int:
        if isinstance(node, SerializedTaskGroup):
            return min((order[t.task_id] for t in node.iter_tasks()), default=len(order))
        return order[node.task_id]

    rows: list[dict[str, Any]] = []

    def walk(group: SerializedTaskGroup, depth: int) -> None:
        for node in sorted(group.children.values(), key=first):
            if isinstance(node, SerializedTaskGroup):
                rows.append(
                    {
                        "id": node.group_id,
                        "label": node.group_display_name or node.label or node.group_id,
                        "depth": depth,
                        "group": True,
                        "parent": group.group_id,
                        "tasks": [t.task_id for t in node.iter_tasks()],
                    }
                )
                walk(node, depth + 1)
            else:
                rows.append(
                    {
                        "id": node.task_id,
                        "label": node.label or node.task_id,
                        "depth": depth,
                        "group": False,
                        "parent": group.group_id,
                        "mapped": node.is_mapped,
                        "operator": node.operator_name,
                    }
                )

    walk(dag.task_group, 0)
    return rows


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


_CACHE = StampedCache()


def _build(dag_id: str, version: int, dag: SerializedDag, runs: list[Any], by_task: dict[str, Any]) -> bytes:
    rows = grid_rows(dag)
    empty: list[list[str | None]] = [[] for _ in runs]
    for row in rows:
        if row["group"]:
            cells = [
                [s for task_id in row["tasks"] for s in by_task.get(task_id, empty)[i]]
                for i in range(len(runs))
            ]
            del row["tasks"]
        else:
            cells = by_task.get(row["id"], empty)
            if row["mapped"]:
                row["counts"] = [len(c) for c in cells]
        row["states"] = [summarize(c) for c in cells]
    body = {
        "dag_id": dag_id,
        "version": version,
        "runs": [
            {
                "run_id": r.run_id,
                "state": r.state,
                "run_type": r.run_type,
                "run_after": _iso(r.run_after),
                "logical_date": _iso(r.logical_date),
                "queued_at": _iso(r.queued_at),
                "start_date": _iso(r.start_date),
                "end_date": _iso(r.end_date),
                "triggered_by": r.triggered_by,
            }
            for r in runs
        ],
        "rows": rows,
    }
    return json.dumps(body, separators=(",", ":")).encode()


@router.get("/grid/{dag_id}")
def grid(
    dag_id: str,
    request: Request,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))],
    limit: Annotated[int, Query(ge=1, le=200, description="How many runs (the newest).")] = 25,
    before: Annotated[datetime | None, Query(description="Only runs due before this time.")] = None,
) -> Response:
    try:
        version, dag = latest_dag(conn, dag_id)
    except DagNotStored:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id!r} was not found") from None
    query = select(
        _RUN.c.run_id, _RUN.c.state, _RUN.c.run_type, _RUN.c.run_after, _RUN.c.logical_date,
        _RUN.c.start_date, _RUN.c.end_date, _RUN.c.queued_at, _RUN.c.triggered_by,
    ).where(_RUN.c.dag_id == dag_id)  # fmt: skip
    if before is not None:
        query = query.where(_RUN.c.run_after < before)
    runs = list(
        reversed(conn.execute(query.order_by(_RUN.c.run_after.desc(), _RUN.c.id.desc()).limit(limit)).all())
    )
    run_ids = [run.run_id for run in runs]
    in_runs = (_TI.c.dag_id == dag_id, _TI.c.run_id.in_(run_ids))
    count, changed = conn.execute(select(func.count(), func.max(_TI.c.updated_at)).where(*in_runs)).one()
    key = (dag_id, limit, before)
    stamp = (version, tuple(tuple(run) for run in runs), count, changed)

    def build() -> bytes:
        by_task: dict[str, list[list[str | None]]] = defaultdict(lambda: [[] for _ in runs])
        if runs:
            column = {run_id: index for index, run_id in enumerate(run_ids)}
            for run_id, task_id, state in conn.execute(
                select(_TI.c.run_id, _TI.c.task_id, _TI.c.state).where(*in_runs)
            ):
                by_task[task_id][column[run_id]].append(state)
        return _build(dag_id, version, dag, runs, by_task)

    return _CACHE.respond(request, key, stamp, build)
