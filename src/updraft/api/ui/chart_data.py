"""The data of the Graph, Gantt and Durations tabs, each in a fixed number of queries.

``GET /ui/graph/{dag_id}``: the DAG's structure (tasks, edges with their labels, the TaskGroup
tree), built once per stored version; the browser lays it out. ``GET /ui/runs/{dag_id}``: the
recent runs for the tabs' run pickers. ``GET /ui/run-states/{dag_id}/{run_id}``: each task's state
in a run (a mapped task's summary and count), each group's summary. ``GET /ui/gantt/{dag_id}/
{run_id}``: every task instance's queued, start and end times, with the earlier tries.
``GET /ui/durations/{dag_id}``: the recent runs' durations and each task's duration in them.
Times are ISO strings; the answers carry the server's ``now`` so a page measures running work
against the server's clock, not the browser's.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from datetime import datetime
from threading import Lock
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import Connection, Row, Table, select

from updraft.api.routes.deps import Conn
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.api.ui.dag_cache import latest_dag
from updraft.api.ui.grid_data import grid_rows, summarize
from updraft.core.dag_runs import DagNotStored
from updraft.core.db.models import DagRun, TaskInstance, TaskInstanceHistory
from updraft.core.db.types import utcnow
from updraft.sdk.serialization import SerializedDag, SerializedTaskGroup

__all__ = ["graph_structure", "router"]

router = APIRouter(prefix="/ui", tags=["UI"], include_in_schema=False)
_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_TI: Table = TaskInstance.__table__  # type: ignore[assignment]
_TIH: Table = TaskInstanceHistory.__table__  # type: ignore[assignment]
TaskReader = Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))]
RunReader = Annotated[CurrentUser, Depends(require(Permission.RUNS_READ))]
_RUN_COLUMNS = ("run_id", "state", "run_type", "run_after", "logical_date", "queued_at", "start_date",
                "end_date")  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start is not None and end is not None else None


def _run_dict(row: Row[Any]) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in _RUN_COLUMNS}
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in out.items()}


def _dag_or_404(conn: Connection, dag_id: str) -> tuple[int, SerializedDag]:
    try:
        return latest_dag(conn, dag_id)
    except DagNotStored:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id!r} was not found") from None


def _run_or_404(conn: Connection, dag_id: str, run_id: str) -> Row[Any]:
    columns = [_RUN.c[name] for name in _RUN_COLUMNS]
    row = conn.execute(select(*columns).where(_RUN.c.dag_id == dag_id, _RUN.c.run_id == run_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id!r} has no run {run_id!r}")
    return row


def _recent_runs(conn: Connection, dag_id: str, limit: int) -> list[Row[Any]]:
    """The newest ``limit`` runs, oldest first."""
    query = (
        select(*[_RUN.c[name] for name in _RUN_COLUMNS])
        .where(_RUN.c.dag_id == dag_id)
        .order_by(_RUN.c.run_after.desc(), _RUN.c.id.desc())
        .limit(limit)
    )
    return list(reversed(conn.execute(query).all()))


# -- Graph -------------------------------------------------------------------------------------


def graph_structure(dag: SerializedDag) -> dict[str, Any]:
    """Tasks in dependency order (with their group), edges with labels, groups parents first."""
    nodes = [
        {
            "id": task.task_id,
            "label": task.label or task.task_id,
            "operator": task.operator_name,
            "mapped": task.is_mapped,
            "group": task.task_group.group_id if task.task_group is not None else None,
        }
        for task in dag.topological_sort()
    ]
    edges = [
        {"from": task.task_id, "to": down, "label": dag.get_edge_info(task.task_id, down).get("label")}
        for task in dag.topological_sort()
        for down in sorted(task.downstream_task_ids)
    ]

    def group_dict(group: SerializedTaskGroup) -> dict[str, Any]:
        parent = group.parent_group.group_id if group.parent_group is not None else None
        return {
            "id": group.group_id,
            "label": group.group_display_name or group.label or group.group_id,
            "parent": parent,
            "tooltip": group.tooltip,
            "tasks": len(group.iter_tasks()),
        }

    groups = [group_dict(g) for g in dag.task_group.iter_groups()]
    return {"dag_id": dag.dag_id, "nodes": nodes, "edges": edges, "groups": groups}


class _VersionCache:
    """Graph answers by serialized version id (versions never change), least recently used out."""

    def __init__(self, max_entries: int = 128) -> None:
        self._items: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._lock = Lock()
        self.max_entries = max_entries

    def get(self, version: int, dag: SerializedDag) -> dict[str, Any]:
        with self._lock:
            found = self._items.get(version)
            if found is not None:
                self._items.move_to_end(version)
                return found
        built = {**graph_structure(dag), "version": version}
        with self._lock:
            self._items[version] = built
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return built


_GRAPHS = _VersionCache()


@router.get("/graph/{dag_id}")
def graph(dag_id: str, conn: Conn, user: TaskReader) -> dict[str, Any]:
    version, dag = _dag_or_404(conn, dag_id)
    return _GRAPHS.get(version, dag)


@router.get("/runs/{dag_id}")
def recent_runs(
    dag_id: str,
    conn: Conn,
    user: RunReader,
    limit: Annotated[int, Query(ge=1, le=500, description="How many runs (the newest).")] = 50,
) -> dict[str, Any]:
    """The newest runs first, for a run picker."""
    _dag_or_404(conn, dag_id)
    runs = [_run_dict(r) for r in reversed(_recent_runs(conn, dag_id, limit))]
    return {"dag_id": dag_id, "runs": runs}


@router.get("/run-states/{dag_id}/{run_id}")
def run_states(dag_id: str, run_id: str, conn: Conn, user: TaskReader) -> dict[str, Any]:
    """Each task's state in the run (mapped: summary and count) and each group's summary."""
    version, dag = _dag_or_404(conn, dag_id)
    run = _run_or_404(conn, dag_id, run_id)
    states: dict[str, list[str | None]] = defaultdict(list)
    query = select(_TI.c.task_id, _TI.c.state).where(_TI.c.dag_id == dag_id, _TI.c.run_id == run_id)
    for task_id, state in conn.execute(query):
        states[task_id].append(state)
    tasks: dict[str, dict[str, Any]] = {}
    for task_id, task in dag.task_dict.items():
        found = states.get(task_id, [])
        entry: dict[str, Any] = {"state": summarize(found)}
        if task.is_mapped:
            entry["count"] = len(found)
        tasks[task_id] = entry
    groups = {
        str(group.group_id): summarize([s for t in group.iter_tasks() for s in states.get(t.task_id, [])])
        for group in dag.task_group.iter_groups()
    }
    return {"dag_id": dag_id, "version": version, "run": _run_dict(run), "tasks": tasks, "groups": groups,
            "now": utcnow().isoformat()}  # fmt: skip


# -- Gantt -------------------------------------------------------------------------------------


@router.get("/gantt/{dag_id}/{run_id}")
def gantt(dag_id: str, run_id: str, conn: Conn, user: TaskReader) -> dict[str, Any]:
    """Rows in the grid's order; each task row lists its instances (and their earlier tries)."""
    _, dag = _dag_or_404(conn, dag_id)
    run = _run_or_404(conn, dag_id, run_id)
    instances: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ti_query = select(
        _TI.c.task_id, _TI.c.map_index, _TI.c.try_number, _TI.c.state, _TI.c.queued_dttm, _TI.c.start_date,
        _TI.c.end_date,
    ).where(_TI.c.dag_id == dag_id, _TI.c.run_id == run_id).order_by(_TI.c.task_id, _TI.c.map_index)  # fmt: skip
    for ti in conn.execute(ti_query):
        instances[ti.task_id].append(
            {
                "map_index": ti.map_index,
                "try_number": ti.try_number,
                "state": ti.state,
                "queued": _iso(ti.queued_dttm),
                "start": _iso(ti.start_date),
                "end": _iso(ti.end_date),
                "tries": [],
            }
        )
    earlier: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    tih_query = select(
        _TIH.c.task_id, _TIH.c.map_index, _TIH.c.try_number, _TIH.c.state, _TIH.c.start_date, _TIH.c.end_date,
    ).where(_TIH.c.dag_id == dag_id, _TIH.c.run_id == run_id).order_by(_TIH.c.try_number)  # fmt: skip
    for h in conn.execute(tih_query):
        earlier[(h.task_id, h.map_index)].append(
            {
                "try_number": h.try_number,
                "state": h.state,
                "start": _iso(h.start_date),
                "end": _iso(h.end_date),
            }
        )
    rows = grid_rows(dag)
    for row in rows:
        if row["group"]:
            del row["tasks"]
            continue
        found = instances.get(row["id"], [])
        for bar in found:
            tries = earlier.get((row["id"], bar["map_index"]), [])
            bar["tries"] = [t for t in tries if t["try_number"] != bar["try_number"]]
        row["instances"] = found
    return {"dag_id": dag_id, "run": _run_dict(run), "rows": rows, "now": utcnow().isoformat()}


# -- Durations ---------------------------------------------------------------------------------


@router.get("/durations/{dag_id}")
def durations(
    dag_id: str,
    conn: Conn,
    user: TaskReader,
    limit: Annotated[int, Query(ge=1, le=200, description="How many runs (the newest).")] = 25,
) -> dict[str, Any]:
    """Per run (oldest first): its duration and time queued; per task: its duration in each run.

    A task's duration in a run spans its first start to its last end over its map indexes; an
    unfinished run or task counts up to now (and is flagged ``running``).
    """
    _, dag = _dag_or_404(conn, dag_id)
    now = utcnow()
    runs = _recent_runs(conn, dag_id, limit)
    column = {run.run_id: index for index, run in enumerate(runs)}
    spans: dict[str, list[list[Any]]] = defaultdict(lambda: [[] for _ in runs])
    if runs:
        query = select(_TI.c.run_id, _TI.c.task_id, _TI.c.state, _TI.c.start_date, _TI.c.end_date).where(
            _TI.c.dag_id == dag_id, _TI.c.run_id.in_(list(column))
        )
        for ti in conn.execute(query):
            spans[ti.task_id][column[ti.run_id]].append(ti)
    run_list = []
    for run in runs:
        entry = _run_dict(run)
        running = run.start_date is not None and run.end_date is None
        entry["duration"] = _seconds(run.start_date, run.end_date or (now if running else None))
        entry["queued_duration"] = _seconds(run.queued_at, run.start_date)
        entry["running"] = running
        run_list.append(entry)
    tasks = []
    for row in grid_rows(dag):
        if row["group"]:
            continue
        cells = spans.get(row["id"])
        values: list[float | None] = []
        states: list[str | None] = []
        for tis in cells or [[] for _ in runs]:
            starts = [ti.start_date for ti in tis if ti.start_date is not None]
            ends = [ti.end_date or now for ti in tis if ti.start_date is not None]
            values.append(_seconds(min(starts), max(ends)) if starts else None)
            states.append(summarize([ti.state for ti in tis]))
        tasks.append({"id": row["id"], "label": row["label"], "durations": values, "states": states})
    return {"dag_id": dag_id, "runs": run_list, "tasks": tasks, "now": now.isoformat()}
