"""``GET /ui/dags``: the DAG list page's data, one query per batch (DAGs, tags, recent runs).

Each DAG comes with its tags, schedule in words, pause flag, next run, last run and the state
counts of its most recent runs (``RECENT_RUNS`` per DAG, one windowed query for the whole page).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Table, func, or_, select

from updraft.api.routes.deps import Conn
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core.db.models import DagModel, DagRun, DagTag, ParseImportError

__all__ = ["RECENT_RUNS", "router"]

router = APIRouter(prefix="/ui", tags=["UI"], include_in_schema=False)
RECENT_RUNS = 25
_DAG: Table = DagModel.__table__  # type: ignore[assignment]
_TAG: Table = DagTag.__table__  # type: ignore[assignment]
_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_ERR: Table = ParseImportError.__table__  # type: ignore[assignment]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@router.get("/dags")
def dag_list(
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.DAGS_READ))],
    search: Annotated[str | None, Query(max_length=250)] = None,
    tags: Annotated[list[str] | None, Query()] = None,
    status: Literal["all", "active", "paused", "failed", "running"] = "all",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """One page of active DAGs (sorted by id) matching the filters, with their recent runs."""
    where: list[Any] = [_DAG.c.is_active.is_(True)]
    if search:
        pattern = f"%{search.lower()}%"
        where.append(
            or_(
                func.lower(_DAG.c.dag_id).like(pattern),
                func.lower(func.coalesce(_DAG.c.owners, "")).like(pattern),
            )
        )
    if tags:
        tagged = select(_TAG.c.dag_id).where(_TAG.c.name.in_(tags))
        where.append(_DAG.c.dag_id.in_(tagged))
    if status == "active":
        where.append(_DAG.c.is_paused.is_(False))
    elif status == "paused":
        where.append(_DAG.c.is_paused.is_(True))
    elif status in ("failed", "running"):
        latest = select(
            _RUN.c.dag_id,
            _RUN.c.state,
            func.row_number()
            .over(partition_by=_RUN.c.dag_id, order_by=(_RUN.c.run_after.desc(), _RUN.c.id.desc()))
            .label("rn"),
        ).subquery()
        where.append(
            _DAG.c.dag_id.in_(select(latest.c.dag_id).where(latest.c.rn == 1, latest.c.state == status))
        )
    total = conn.execute(select(func.count()).select_from(_DAG).where(*where)).scalar_one()
    dags = conn.execute(
        select(
            _DAG.c.dag_id,
            _DAG.c.owners,
            _DAG.c.is_paused,
            _DAG.c.description,
            _DAG.c.timetable_summary,
            _DAG.c.timetable_description,
            _DAG.c.next_dagrun,
            _DAG.c.next_dagrun_create_after,
            _DAG.c.has_import_errors,
            _DAG.c.fileloc,
        )
        .where(*where)
        .order_by(_DAG.c.dag_id)
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [d.dag_id for d in dags]
    tags_of: dict[str, list[str]] = defaultdict(list)
    runs_of: dict[str, list[Any]] = defaultdict(list)
    if ids:
        for row in conn.execute(
            select(_TAG.c.dag_id, _TAG.c.name).where(_TAG.c.dag_id.in_(ids)).order_by(_TAG.c.name)
        ):
            tags_of[row.dag_id].append(row.name)
        ranked = (
            select(
                _RUN.c.dag_id,
                _RUN.c.run_id,
                _RUN.c.state,
                _RUN.c.run_after,
                _RUN.c.logical_date,
                _RUN.c.start_date,
                _RUN.c.end_date,
                func.row_number()
                .over(partition_by=_RUN.c.dag_id, order_by=(_RUN.c.run_after.desc(), _RUN.c.id.desc()))
                .label("rn"),
            )
            .where(_RUN.c.dag_id.in_(ids))
            .subquery()
        )
        for row in conn.execute(select(ranked).where(ranked.c.rn <= RECENT_RUNS).order_by(ranked.c.rn)):
            runs_of[row.dag_id].append(row)
    all_tags = [r.name for r in conn.execute(select(_TAG.c.name).distinct().order_by(_TAG.c.name))]
    items = []
    for dag in dags:
        runs = runs_of.get(dag.dag_id, [])
        last = runs[0] if runs else None
        items.append(
            {
                "dag_id": dag.dag_id,
                "owners": [o for o in (dag.owners or "").split(",") if o],
                "description": dag.description,
                "tags": tags_of.get(dag.dag_id, []),
                "is_paused": bool(dag.is_paused),
                "schedule": dag.timetable_summary,
                "schedule_description": dag.timetable_description,
                "next_run": _iso(dag.next_dagrun_create_after or dag.next_dagrun),
                "next_logical_date": _iso(dag.next_dagrun),
                "has_import_errors": bool(dag.has_import_errors),
                "last_run": None
                if last is None
                else {
                    "run_id": last.run_id,
                    "state": last.state,
                    "run_after": _iso(last.run_after),
                    "logical_date": _iso(last.logical_date),
                    "start_date": _iso(last.start_date),
                    "end_date": _iso(last.end_date),
                },
                "recent_runs": dict(Counter(r.state for r in runs)),
                "recent_states": [r.state for r in reversed(runs[:10])],
            }
        )
    answer: dict[str, Any] = {"total_entries": total, "dags": items, "tags": all_tags}
    if user.can(Permission.IMPORT_ERRORS_READ):
        errors = conn.execute(
            select(_ERR.c.id, _ERR.c.filename, _ERR.c.stacktrace, _ERR.c.timestamp).order_by(_ERR.c.filename)
        ).all()
        answer["import_errors"] = [
            {"id": e.id, "filename": e.filename, "stacktrace": e.stacktrace, "timestamp": _iso(e.timestamp)}
            for e in errors
        ]
    return answer
