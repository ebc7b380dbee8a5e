"""The audit log: one ``log`` row per thing a user did through the API or the UI.

Routes call :func:`record_event` inside the transaction of the change they record, so the event
and the change commit together.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from sqlalchemy import Connection, Table, insert

from updraft.api.security.dependencies import CurrentUser, client_ip
from updraft.core.db.models import Log
from updraft.core.db.types import utcnow

__all__ = ["record_event"]

_LOG: Table = Log.__table__  # type: ignore[assignment]


def record_event(
    conn: Connection,
    user: CurrentUser | None,
    request: Request | None,
    event: str,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
    extra: dict[str, Any] | str | None = None,
) -> None:
    """Insert one audit event (``event`` e.g. ``"trigger_dag_run"``); never commits."""
    if isinstance(extra, dict):
        extra = json.dumps(extra, default=str, sort_keys=True)
    conn.execute(
        insert(_LOG).values(
            dttm=utcnow(),
            event=event[:60],
            owner=user.username if user else None,
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            map_index=map_index,
            extra=extra,
            client_ip=client_ip(request) if request is not None else None,
        )
    )
