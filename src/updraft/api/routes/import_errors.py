"""``/importErrors``: DAG files that failed to import, with their tracebacks (Airflow 3 shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import Table, select

from updraft.api.routes.deps import Conn, Int32, Limit, Offset, apply_order, count_of, not_found
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core.db.models import ParseImportError

router = APIRouter(tags=["Import Error"])
_ERR: Table = ParseImportError.__table__  # type: ignore[assignment]
_ORDER = {
    "id": _ERR.c.id,
    "import_error_id": _ERR.c.id,
    "timestamp": _ERR.c.timestamp,
    "filename": _ERR.c.filename,
}


class ImportErrorResponse(BaseModel):
    import_error_id: int
    timestamp: datetime
    filename: str
    bundle_name: str | None
    stack_trace: str | None


class ImportErrorCollectionResponse(BaseModel):
    import_errors: list[ImportErrorResponse]
    total_entries: int


def _response(row: Any) -> ImportErrorResponse:
    return ImportErrorResponse(
        import_error_id=row.id,
        timestamp=row.timestamp,
        filename=row.filename,
        bundle_name="dags-folder",
        stack_trace=row.stacktrace,
    )


@router.get("/importErrors")
def get_import_errors(
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.IMPORT_ERRORS_READ))],
    limit: Limit = 50,
    offset: Offset = 0,
    filename_pattern: str | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> ImportErrorCollectionResponse:
    query = select(_ERR)
    if filename_pattern:
        query = query.where(_ERR.c.filename.ilike(f"%{filename_pattern}%"))
    total = count_of(conn, query)
    rows = conn.execute(apply_order(query, order_by, _ORDER, ["id"]).limit(limit).offset(offset)).all()
    return ImportErrorCollectionResponse(import_errors=[_response(r) for r in rows], total_entries=total)


@router.get("/importErrors/{import_error_id}")
def get_import_error(
    import_error_id: Int32,  # an INTEGER column
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.IMPORT_ERRORS_READ))],
) -> ImportErrorResponse:
    row = conn.execute(select(_ERR).where(_ERR.c.id == import_error_id)).first()
    if row is None:
        raise not_found(f"import error {import_error_id}")
    return _response(row)
