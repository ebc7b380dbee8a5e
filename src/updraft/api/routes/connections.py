"""``/connections``: Airflow 3's connection CRUD, through ``updraft.core.config_objects``.

A connection's password is never returned (the field is always ``null``), and values of secret-looking
keys in its JSON ``extra`` are shown as ``***``. Writing a password works as usual (it is stored
encrypted). ``POST /connections/test`` runs the hook's test only when ``[core] test_connection`` is
``Enabled`` (default ``Disabled``, as in Airflow 3: a test reaches out from the server).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
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
from updraft.api.routes.variables import is_sensitive
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core import config_objects as objects
from updraft.core.config import conf
from updraft.core.db.models import Connection as ConnectionRow
from updraft.core.fernet import FernetKeyMismatch
from updraft.providers import registry
from updraft.sdk.connection import Connection

router = APIRouter(tags=["Connection"])
_CONN: Table = ConnectionRow.__table__  # type: ignore[assignment]
_ORDER = {
    "connection_id": _CONN.c.conn_id,
    "conn_id": _CONN.c.conn_id,
    "conn_type": _CONN.c.conn_type,
    "description": _CONN.c.description,
    "host": _CONN.c.host,
    "port": _CONN.c.port,
    "id": _CONN.c.id,
}
#: Body field name -> stored column name.
_FIELDS = {"conn_type": "conn_type", "description": "description", "host": "host", "login": "login",
    "schema": "schema", "port": "port", "password": "password", "extra": "extra"}  # fmt: skip


class ConnectionResponse(BaseModel):
    connection_id: str
    conn_type: str
    description: str | None
    host: str | None
    login: str | None
    schema_: str | None = Field(serialization_alias="schema")
    port: int | None
    password: None = None
    extra: str | None


class ConnectionCollectionResponse(BaseModel):
    connections: list[ConnectionResponse]
    total_entries: int


class ConnectionBody(Body):
    connection_id: str = Field(max_length=200, pattern=r"^[\w.-]+$")
    conn_type: str
    description: str | None = None
    host: str | None = None
    login: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    port: int | None = Field(default=None, ge=0, le=65535)
    password: str | None = None
    extra: str | None = None


def _redact_extra(extra: str | None) -> str | None:
    if not extra:
        return extra
    try:
        data = json.loads(extra)
    except json.JSONDecodeError:
        return extra
    if not isinstance(data, dict):
        return extra
    return json.dumps({k: "***" if is_sensitive(str(k)) and v else v for k, v in data.items()})


def _response(row: Any) -> ConnectionResponse:
    return ConnectionResponse(
        connection_id=row.conn_id,
        conn_type=row.conn_type,
        description=row.description,
        host=row.host,
        login=row.login,
        schema_=row.schema,
        port=row.port,
        extra=_redact_extra(row.extra),
    )


def _undecryptable(exc: FernetKeyMismatch) -> HTTPException:
    return HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, detail=str(exc))


def _get(conn: Conn, connection_id: str) -> ConnectionResponse:
    try:
        row = objects.get_connection_row(conn, connection_id)
    except FernetKeyMismatch as exc:
        raise _undecryptable(exc) from None
    if row is None:
        raise not_found(f"connection {connection_id!r}")
    return _response(row)


def _check_extra(extra: str | None) -> None:
    if extra:
        try:
            json.loads(extra)
        except json.JSONDecodeError as exc:
            raise bad_request(f"extra: not valid JSON ({exc.msg} at column {exc.colno})") from None


def _values(body: ConnectionBody, names: set[str]) -> dict[str, Any]:
    return {_FIELDS[name]: getattr(body, "schema_" if name == "schema" else name) for name in names}


@router.get("/connections", response_model_by_alias=True)
def get_connections(
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.CONNECTIONS_READ))],
    limit: Limit = 50,
    offset: Offset = 0,
    connection_id_pattern: str | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> ConnectionCollectionResponse:
    query = select(_CONN)
    if connection_id_pattern:
        query = query.where(_CONN.c.conn_id.ilike(f"%{connection_id_pattern}%"))
    total = count_of(conn, query)
    rows = conn.execute(
        apply_order(query, order_by, _ORDER, ["connection_id"]).limit(limit).offset(offset)
    ).all()
    try:
        stored = [objects.connection_from_row(row) for row in rows]
    except FernetKeyMismatch as exc:
        raise _undecryptable(exc) from None
    return ConnectionCollectionResponse(connections=[_response(row) for row in stored], total_entries=total)


class ConnectionTestResponse(BaseModel):
    status: bool
    message: str


@router.post("/connections/test")
async def test_connection(
    body: ConnectionBody,
    user: Annotated[CurrentUser, Depends(require(Permission.CONNECTIONS_EDIT))],
) -> ConnectionTestResponse:
    """Run the connection type's hook test on the connection in the body (stored or not)."""
    if conf.get("core", "test_connection", fallback="Disabled").strip().lower() != "enabled":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="testing connections is disabled on this server; an administrator can enable it with "
            "[core] test_connection = Enabled (UPDRAFT__CORE__TEST_CONNECTION=Enabled)",
        )
    _check_extra(body.extra)
    connection = Connection(conn_id=body.connection_id, **_values(body, set(_FIELDS)))
    try:
        ok, message = await run_in_threadpool(registry.test_connection, body.connection_id, connection)
    except registry.HookNotFound as exc:
        return ConnectionTestResponse(status=False, message=str(exc))
    return ConnectionTestResponse(status=ok, message=message)


@router.get("/connections/{connection_id}")
def get_connection(
    connection_id: str,
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.CONNECTIONS_READ))],
) -> ConnectionResponse:
    return _get(conn, connection_id)


@router.post("/connections", status_code=status.HTTP_201_CREATED)
def post_connection(
    body: ConnectionBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.CONNECTIONS_EDIT))],
) -> ConnectionResponse:
    _check_extra(body.extra)
    try:
        objects.create_connection(conn, body.connection_id, _values(body, set(_FIELDS)))
    except objects.ObjectExists as exc:
        raise conflict(str(exc)) from None
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    record_event(conn, user, request, "post_connection", extra={"connection_id": body.connection_id})
    return _get(conn, body.connection_id)


@router.patch("/connections/{connection_id}")
def patch_connection(
    connection_id: str,
    body: ConnectionBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.CONNECTIONS_EDIT))],
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> ConnectionResponse:
    """Change the fields in ``update_mask`` (default: every field the body sets)."""
    if body.connection_id != connection_id:
        raise bad_request(
            f"connection_id: the body's {body.connection_id!r} differs from the path's {connection_id!r}"
        )
    sent = {"schema" if name == "schema_" else name for name in body.model_fields_set} - {"connection_id"}
    fields = set(update_mask) if update_mask else sent
    unknown = sorted(fields - set(_FIELDS))
    if unknown:
        raise bad_request(f"update_mask: these fields cannot be updated: {', '.join(unknown)}")
    if "extra" in fields:
        _check_extra(body.extra)
    try:
        objects.update_connection(conn, connection_id, _values(body, fields))
    except objects.ObjectNotFound:
        raise not_found(f"connection {connection_id!r}") from None
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    extra = {"connection_id": connection_id, "fields": sorted(fields)}
    record_event(conn, user, request, "patch_connection", extra=extra)
    return _get(conn, connection_id)


@router.delete("/connections/{connection_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(
    connection_id: str,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.CONNECTIONS_EDIT))],
) -> Response:
    try:
        objects.delete_connection(conn, connection_id)
    except objects.ObjectNotFound:
        raise not_found(f"connection {connection_id!r}") from None
    record_event(conn, user, request, "delete_connection", extra={"connection_id": connection_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
