"""``/variables``: Airflow 3's variable CRUD, through ``updraft.core.config_objects``.

Values of variables whose key looks secret (``password``, ``secret``, ``token``...) are shown as
``***``, as Airflow does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import Table, select

from updraft.api.audit import record_event
from updraft.api.routes.deps import (
    Body,
    Conn,
    Limit,
    Offset,
    apply_order,
    bad_request,
    conflict,
    count_of,
    not_found,
)
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core import config_objects as objects
from updraft.core.db.models import Variable
from updraft.core.fernet import FernetKeyMismatch
from updraft.sdk.masking import is_sensitive_name

router = APIRouter(tags=["Variable"])
_VAR: Table = Variable.__table__  # type: ignore[assignment]
_ORDER = {"key": _VAR.c.key, "id": _VAR.c.id, "description": _VAR.c.description}


def is_sensitive(key: str) -> bool:
    """A key whose value is shown as ``***`` (the same words the log masker uses)."""
    return is_sensitive_name(key)


class VariableResponse(BaseModel):
    key: str
    value: str | None
    description: str | None
    is_encrypted: bool


class VariableCollectionResponse(BaseModel):
    variables: list[VariableResponse]
    total_entries: int


class VariableBody(Body):
    key: str
    value: str | None
    description: str | None = None


def _response(row: Any) -> VariableResponse:
    value = row.val
    return VariableResponse(
        key=row.key,
        value="***" if value is not None and is_sensitive(row.key) else value,
        description=row.description,
        is_encrypted=bool(row.is_encrypted),
    )


def _get(conn: Conn, key: str) -> VariableResponse:
    try:
        row = objects.get_variable_row(conn, key)
    except FernetKeyMismatch as exc:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, detail=str(exc)) from None
    if row is None:
        raise not_found(f"variable {key!r}")
    return _response(row)


@router.get("/variables")
def get_variables(
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.VARIABLES_READ))],
    limit: Limit = 50,
    offset: Offset = 0,
    variable_key_pattern: str | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> VariableCollectionResponse:
    query = select(_VAR)
    if variable_key_pattern:
        query = query.where(_VAR.c.key.ilike(f"%{variable_key_pattern}%"))
    total = count_of(conn, query)
    rows = conn.execute(apply_order(query, order_by, _ORDER, ["key"]).limit(limit).offset(offset)).all()
    try:
        stored = [objects.variable_from_row(row) for row in rows]
    except FernetKeyMismatch as exc:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, detail=str(exc)) from None
    return VariableCollectionResponse(variables=[_response(row) for row in stored], total_entries=total)


@router.get("/variables/{variable_key}")
def get_variable(
    variable_key: str, conn: Conn, user: Annotated[CurrentUser, Depends(require(Permission.VARIABLES_READ))]
) -> VariableResponse:
    return _get(conn, variable_key)


@router.post("/variables", status_code=status.HTTP_201_CREATED)
def post_variable(
    body: VariableBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.VARIABLES_EDIT))],
) -> VariableResponse:
    try:
        objects.create_variable(conn, body.key, body.value, body.description)
    except objects.ObjectExists as exc:
        raise conflict(str(exc)) from None
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    record_event(conn, user, request, "post_variable", extra={"key": body.key})
    return _get(conn, body.key)


@router.patch("/variables/{variable_key}")
def patch_variable(
    variable_key: str,
    body: VariableBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.VARIABLES_EDIT))],
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> VariableResponse:
    """Change the value and/or description (``update_mask`` picks which; the key cannot change)."""
    if body.key != variable_key:
        raise bad_request(f"key: the body's key {body.key!r} differs from the path's {variable_key!r}")
    fields = set(update_mask) if update_mask else set(body.model_fields_set) - {"key"}
    unknown = sorted(fields - {"value", "description"})
    if unknown:
        raise bad_request(
            f"update_mask: only 'value' and 'description' can be updated, not {', '.join(unknown)}"
        )
    changes = {"val" if name == "value" else name: getattr(body, name) for name in fields}
    try:
        objects.update_variable(conn, variable_key, changes)
    except objects.ObjectNotFound:
        raise not_found(f"variable {variable_key!r}") from None
    record_event(conn, user, request, "patch_variable", extra={"key": variable_key, "fields": sorted(fields)})
    return _get(conn, variable_key)


@router.delete("/variables/{variable_key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_variable(
    variable_key: str,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.VARIABLES_EDIT))],
) -> Response:
    try:
        objects.delete_variable(conn, variable_key)
    except objects.ObjectNotFound:
        raise not_found(f"variable {variable_key!r}") from None
    record_event(conn, user, request, "delete_variable", extra={"key": variable_key})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
