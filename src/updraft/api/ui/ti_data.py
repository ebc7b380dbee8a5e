"""``GET /ui/ti/{dag_id}/{run_id}/{task_id}``: everything the task-instance panel shows, at once.

The instance (state, tries, times, CPU time and peak memory), its earlier tries, its rendered
template fields, its XComs (decoded), the task's definition (operator, retries, trigger rule,
docs as safe HTML) and, for a mapped task, the state of each map index. Logs are read through
the REST API's log route, which streams with a continuation token.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import Table, select

from updraft.api.routes.deps import Conn
from updraft.api.routes.xcom import decoded_value
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.api.ui.dag_cache import latest_dag
from updraft.api.ui.pages import render_markdown
from updraft.core.clear import select_task_ids
from updraft.core.dag_runs import DagNotStored
from updraft.core.db.models import DagRun, TaskInstance, TaskInstanceHistory, XCom
from updraft.sdk.masking import redact

__all__ = ["router"]

router = APIRouter(prefix="/ui", tags=["UI"], include_in_schema=False)
_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_TI: Table = TaskInstance.__table__  # type: ignore[assignment]
_TIH: Table = TaskInstanceHistory.__table__  # type: ignore[assignment]
_XCOM: Table = XCom.__table__  # type: ignore[assignment]
_TI_FIELDS = (
    "state", "try_number", "max_tries", "start_date", "end_date", "queued_dttm", "scheduled_dttm", "duration",
    "operator", "pool", "pool_slots", "queue", "priority_weight", "hostname", "pid", "executor",
    "next_retry_at", "cpu_time_s", "peak_rss_bytes", "note", "map_index",
)  # fmt: skip
_TRY_FIELDS = ("try_number", "state", "start_date", "end_date", "duration", "hostname", "pid", "cpu_time_s",
               "peak_rss_bytes", "error")  # fmt: skip


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _pick(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in names}


@router.get("/ti/{dag_id}/{run_id}/{task_id}")
def task_instance_panel(
    dag_id: str,
    run_id: str,
    task_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))],
    map_index: Annotated[int | None, Query(ge=-1)] = None,
) -> dict[str, Any]:
    run = conn.execute(
        select(_RUN.c.run_id, _RUN.c.state, _RUN.c.run_type, _RUN.c.logical_date, _RUN.c.run_after, _RUN.c.conf)
        .where(_RUN.c.dag_id == dag_id, _RUN.c.run_id == run_id)
    ).first()  # fmt: skip
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_id!r} of DAG {dag_id!r} was not found")
    instances = conn.execute(
        select(_TI).where(_TI.c.dag_id == dag_id, _TI.c.run_id == run_id, _TI.c.task_id == task_id)
        .order_by(_TI.c.map_index)
    ).all()  # fmt: skip
    task: dict[str, Any] | None = None
    try:
        _, dag = latest_dag(conn, dag_id)
    except DagNotStored:
        dag = None
    if dag is not None and task_id in dag.task_dict:
        t = dag.task_dict[task_id]
        task = {
            "operator": t.operator_name,
            "retries": t.retries,
            "trigger_rule": str(t.trigger_rule.value),
            "is_mapped": t.is_mapped,
            "upstream": sorted(t.upstream_task_ids),
            "downstream": sorted(t.downstream_task_ids),
            "doc_html": render_markdown(t.doc_md),
            "template_fields": list(t.template_fields),
        }
    if not instances and task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id!r} of run {run_id!r} was not found")
    chosen = None
    if instances:
        wanted = map_index if map_index is not None else instances[0].map_index
        chosen = next((i for i in instances if i.map_index == wanted), None)
        if chosen is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"map index {wanted} of task {task_id!r} was not found"
            )
    answer: dict[str, Any] = {
        "dag_id": dag_id,
        "task_id": task_id,
        "run": {k: _plain(v) for k, v in run._mapping.items()},
        "task": task,
        "map_indexes": [{"map_index": i.map_index, "state": i.state} for i in instances]
        if len(instances) > 1 or (instances and instances[0].map_index >= 0)
        else [],
        "instance": None,
        "tries": [],
        "rendered_fields": {},
        "xcoms": [],
    }
    if chosen is None:
        return answer
    answer["instance"] = _pick(chosen, _TI_FIELDS)
    answer["rendered_fields"] = redact(chosen.rendered_fields or {})  # fields named like secrets hidden
    history = conn.execute(
        select(_TIH).where(
            _TIH.c.dag_id == dag_id, _TIH.c.run_id == run_id, _TIH.c.task_id == task_id,
            _TIH.c.map_index == chosen.map_index,
        ).order_by(_TIH.c.try_number)
    ).all()  # fmt: skip
    tries = [_pick(h, _TRY_FIELDS) for h in history]
    if chosen.try_number and all(t["try_number"] != chosen.try_number for t in tries):
        tries.append(_pick(chosen, _TRY_FIELDS[:-1]) | {"error": None})
    answer["tries"] = tries
    if user.can(Permission.XCOMS_READ):
        rows = conn.execute(
            select(_XCOM.c.key, _XCOM.c.value, _XCOM.c.timestamp).where(
                _XCOM.c.dag_id == dag_id, _XCOM.c.run_id == run_id, _XCOM.c.task_id == task_id,
                _XCOM.c.map_index == chosen.map_index,
            ).order_by(_XCOM.c.key)
        ).all()  # fmt: skip
        answer["xcoms"] = [
            {"key": r.key, "value": decoded_value(r.value, stringify=False), "timestamp": _plain(r.timestamp)}
            for r in rows
        ]
    return answer


@router.get("/mark-preview/{dag_id}/{run_id}/{task_id}")
def mark_preview(
    dag_id: str,
    run_id: str,
    task_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))],
    state: Literal["success", "failed", "skipped"],
    upstream: bool = False,
    downstream: bool = False,
    map_index: Annotated[int | None, Query(ge=-1)] = None,
) -> dict[str, Any]:
    """The task instances that marking this one ``state`` would change (what the PATCH route does)."""
    try:
        _, dag = latest_dag(conn, dag_id)
    except DagNotStored:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id!r} was not found") from None
    if task_id not in dag.task_dict:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id!r} has no task {task_id!r}")
    relatives = select_task_ids(dag, f"^{re.escape(task_id)}$", upstream=upstream, downstream=downstream)
    rows = conn.execute(
        select(_TI.c.task_id, _TI.c.map_index, _TI.c.state)
        .where(_TI.c.dag_id == dag_id, _TI.c.run_id == run_id, _TI.c.task_id.in_(sorted(relatives)))
        .order_by(_TI.c.task_id, _TI.c.map_index)
    ).all()
    picked = [
        {"task_id": r.task_id, "map_index": r.map_index, "state": r.state, "dag_run_id": run_id}
        for r in rows
        if r.state != state
        and not (r.task_id == task_id and map_index is not None and r.map_index != map_index)
    ]
    return {"task_instances": picked, "total_entries": len(picked)}
