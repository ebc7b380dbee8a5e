"""Row lookups shared by the run, task-instance and XCom routes, with 404s that name what is missing.

The routes modules import from here (and ``deps``), never from each other, so none depends on
another route module's import order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, Table, select

from updraft.api.routes.deps import not_found
from updraft.core.db.models import DagModel, DagRun, SerializedDagModel

__all__ = ["require_dag", "run_query", "run_row"]

_RUN: Table = DagRun.__table__  # type: ignore[assignment]
_DAG: Table = DagModel.__table__  # type: ignore[assignment]
_SD: Table = SerializedDagModel.__table__  # type: ignore[assignment]


def run_query() -> Select[Any]:
    """Runs with the number and creation time of the DAG version they run."""
    return select(
        _RUN, _SD.c.version.label("dag_version_number"), _SD.c.created_at.label("dag_version_created_at")
    ).outerjoin(_SD, _SD.c.id == _RUN.c.serialized_dag_id)


def require_dag(conn: Connection, dag_id: str) -> None:
    """404 naming the DAG unless it is stored."""
    if conn.scalar(select(_DAG.c.dag_id).where(_DAG.c.dag_id == dag_id)) is None:
        raise not_found(f"DAG {dag_id!r}")


def run_row(conn: Connection, dag_id: str, run_id: str) -> Any:
    """The run's row; 404 naming the DAG and the run."""
    row = conn.execute(run_query().where(_RUN.c.dag_id == dag_id, _RUN.c.run_id == run_id)).first()
    if row is None:
        require_dag(conn, dag_id)
        raise not_found(f"DAG run {run_id!r} of DAG {dag_id!r}")
    return row
