"""``.../xcomEntries``: XComs of task instances (Airflow 3 shapes); values are decoded with
``updraft.sdk.serde.decode`` (never unpickled), and shown as JSON when they can be, else as text.

``~`` as dag_id, dag_run_id or task_id lists across DAGs, runs or tasks.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Connection, Table, and_, select

from updraft.api.routes.deps import Conn, Int32, Limit, Offset, count_of, not_found
from updraft.api.routes.lookups import require_dag, run_row
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core.db.models import DagRun, XCom
from updraft.sdk import serde

router = APIRouter(tags=["XCom"])
_XCOM: Table = XCom.__table__  # type: ignore[assignment]
_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_PREFIX = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries"


class XComResponse(BaseModel):
    key: str
    timestamp: datetime
    logical_date: datetime | None
    map_index: int
    task_id: str
    dag_id: str
    run_id: str
    run_after: datetime | None
    dag_display_name: str
    task_display_name: str


class XComResponseNative(XComResponse):
    value: Any


class XComCollectionResponse(BaseModel):
    xcom_entries: list[XComResponse]
    total_entries: int


def _query() -> Any:
    return select(_XCOM, _RUN.c.logical_date, _RUN.c.run_after).join(
        _RUN, and_(_RUN.c.dag_id == _XCOM.c.dag_id, _RUN.c.run_id == _XCOM.c.run_id)
    )


def _fields(row: Any) -> dict[str, Any]:
    return {
        "key": row.key,
        "timestamp": row.timestamp,
        "logical_date": row.logical_date,
        "map_index": row.map_index,
        "task_id": row.task_id,
        "dag_id": row.dag_id,
        "run_id": row.run_id,
        "run_after": row.run_after,
        "dag_display_name": row.dag_id,
        "task_display_name": row.task_id,
    }


def decoded_value(text: str | None, stringify: bool) -> Any:
    """The XCom's value: decoded JSON, or its ``str()`` with ``stringify`` or when not JSON-able."""
    if text is None:
        return None
    try:
        value = serde.decode(text)
    except Exception:  # noqa: BLE001 - a value this version cannot decode is shown as stored
        return text
    if stringify:
        return str(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _scope(conn: Connection, query: Any, dag_id: str, run_id: str, task_id: str) -> Any:
    if dag_id != "~":
        require_dag(conn, dag_id)
        query = query.where(_XCOM.c.dag_id == dag_id)
        if run_id != "~":
            run_row(conn, dag_id, run_id)
    if run_id != "~":
        query = query.where(_XCOM.c.run_id == run_id)
    if task_id != "~":
        query = query.where(_XCOM.c.task_id == task_id)
    return query


@router.get(_PREFIX)
def get_xcom_entries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.XCOMS_READ))],
    xcom_key: str | None = None,
    map_index: Int32 | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> XComCollectionResponse:
    query = _scope(conn, _query(), dag_id, dag_run_id, task_id)
    if xcom_key is not None:
        query = query.where(_XCOM.c.key == xcom_key)
    if map_index is not None:
        query = query.where(_XCOM.c.map_index == map_index)
    total = count_of(conn, query)
    order = (_XCOM.c.dag_id, _XCOM.c.run_id, _XCOM.c.task_id, _XCOM.c.map_index, _XCOM.c.key)
    rows = conn.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    entries = [XComResponse(**_fields(row)) for row in rows]
    return XComCollectionResponse(xcom_entries=entries, total_entries=total)


@router.get(_PREFIX + "/{xcom_key}")
def get_xcom_entry(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    xcom_key: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.XCOMS_READ))],
    map_index: Int32 = -1,
    deserialize: bool = False,
    stringify: bool = False,
) -> XComResponseNative:
    """One XCom with its value (``deserialize`` is accepted for Airflow clients; values are always
    decoded, safely)."""
    row = conn.execute(
        _query().where(
            _XCOM.c.dag_id == dag_id,
            _XCOM.c.run_id == dag_run_id,
            _XCOM.c.task_id == task_id,
            _XCOM.c.map_index == map_index,
            _XCOM.c.key == xcom_key,
        )
    ).first()
    if row is None:
        raise not_found(
            f"XCom {xcom_key!r} of task {task_id!r} (map index {map_index}) in run {dag_run_id!r} of DAG {dag_id!r}"
        )
    return XComResponseNative(**_fields(row), value=decoded_value(row.value, stringify))
