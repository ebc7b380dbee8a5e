"""A task instance's tries (``.../tries``, from ``task_instance_history``) and the log of one try
(``.../logs/{try_number}``), read from the per-attempt log files.

Logs stream: the response's ``continuation_token`` is opaque (base64 of the byte offset read up to);
passing it back as ``token`` returns only the lines written since. While the try is still running a
last, incomplete line is held back until it is finished. ``Accept: text/plain`` returns plain text.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel
from sqlalchemy import Connection, Table, select

from updraft.api.routes.deps import Conn, Int32, bad_request, not_found
from updraft.api.routes.ti_common import ti_row
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core.config import conf
from updraft.core.db.models import TaskInstanceHistory
from updraft.core.runtime.task_log import attempt_log_path
from updraft.sdk.states import TaskInstanceState

router = APIRouter(tags=["Task Instance"])
_TIH: Table = TaskInstanceHistory.__table__  # type: ignore[assignment]
_PREFIX = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"
_MAX_CHUNK = 1024 * 1024  # bytes returned per call at most; the token continues from there
_UNFINISHED = {TaskInstanceState.RUNNING.value, TaskInstanceState.RESTARTING.value}


class TaskInstanceHistoryResponse(BaseModel):
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    state: str | None
    try_number: int
    max_tries: int
    task_display_name: str
    dag_display_name: str
    hostname: str | None
    unixname: str | None
    pool: str | None
    pool_slots: int
    queue: str | None
    priority_weight: int | None
    operator: str | None
    pid: int | None
    executor: str | None
    executor_config: str
    error: str | None


class TaskInstanceHistoryCollectionResponse(BaseModel):
    task_instances: list[TaskInstanceHistoryResponse]
    total_entries: int


class TaskInstancesLogResponse(BaseModel):
    content: list[str]
    continuation_token: str | None


def _tries(
    conn: Connection, dag_id: str, run_id: str, task_id: str, map_index: int
) -> TaskInstanceHistoryCollectionResponse:
    ti = ti_row(conn, dag_id, run_id, task_id, map_index)
    rows = conn.execute(
        select(_TIH)
        .where(_TIH.c.dag_id == dag_id, _TIH.c.run_id == run_id)
        .where(_TIH.c.task_id == task_id, _TIH.c.map_index == map_index)
        .order_by(_TIH.c.try_number)
    ).all()
    items = [
        TaskInstanceHistoryResponse(
            task_id=r.task_id,
            dag_id=r.dag_id,
            dag_run_id=r.run_id,
            map_index=r.map_index,
            start_date=r.start_date,
            end_date=r.end_date,
            duration=r.duration,
            state=r.state,
            try_number=r.try_number,
            max_tries=ti.max_tries,
            task_display_name=r.task_id,
            dag_display_name=r.dag_id,
            hostname=r.hostname,
            unixname=None,
            pool=r.pool,
            pool_slots=ti.pool_slots,
            queue=ti.queue,
            priority_weight=ti.priority_weight,
            operator=r.operator,
            pid=r.pid,
            executor=ti.executor,
            executor_config="{}",
            error=r.error,
        )
        for r in rows
    ]
    return TaskInstanceHistoryCollectionResponse(task_instances=items, total_entries=len(items))


@router.get(_PREFIX + "/tries")
def get_task_instance_tries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))],
) -> TaskInstanceHistoryCollectionResponse:
    """Every try of the task instance, oldest first."""
    return _tries(conn, dag_id, dag_run_id, task_id, -1)


@router.get(_PREFIX + "/{map_index}/tries")
def get_mapped_task_instance_tries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: Int32,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.TASKS_READ))],
) -> TaskInstanceHistoryCollectionResponse:
    return _tries(conn, dag_id, dag_run_id, task_id, map_index)


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        data: Any = json.loads(base64.urlsafe_b64decode(token.encode()))
        position = int(data["log_pos"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_request("token: not a continuation_token from this API") from None
    if position < 0:
        raise bad_request("token: not a continuation_token from this API")
    return position


def _encode_token(position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"log_pos": position}).encode()).decode()


def read_chunk(path: Path, position: int, finished: bool) -> tuple[str, int]:
    """Text of the log from byte ``position`` (whole lines only while the try runs) and the new
    position."""
    try:
        with open(path, "rb") as handle:
            handle.seek(position)
            data = handle.read(_MAX_CHUNK)
    except FileNotFoundError:
        return "", position
    if (not finished or len(data) == _MAX_CHUNK) and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        data = data[:cut]
    return data.decode("utf-8", errors="replace"), position + len(data)


@router.get(_PREFIX + "/logs/{try_number}", response_model=None)
def get_log(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    try_number: Int32,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.LOGS_READ))],
    map_index: Int32 = -1,
    token: str | None = None,
    full_content: bool = False,
    accept: Annotated[str, Header()] = "application/json",
) -> TaskInstancesLogResponse | Response:
    """The log of one try; see the module docstring for ``token`` streaming."""
    ti = ti_row(conn, dag_id, dag_run_id, task_id, map_index)
    if try_number < 0 or try_number > max(int(ti.try_number), 0):
        raise not_found(
            f"try {try_number} of task instance {task_id!r} of run {dag_run_id!r} in DAG {dag_id!r}"
        )
    base = Path(conf.get("logging", "base_log_folder")).expanduser()
    path = attempt_log_path(base, dag_id, dag_run_id, task_id, map_index, try_number)
    position = 0 if full_content else _decode_token(token)
    finished = try_number < ti.try_number or ti.state not in _UNFINISHED
    text, position = read_chunk(path, position, finished)
    lines = text.splitlines()
    if accept.startswith("text/plain"):
        return Response("\n".join(lines) + ("\n" if lines else ""), media_type="text/plain")
    return TaskInstancesLogResponse(content=lines, continuation_token=_encode_token(position))
