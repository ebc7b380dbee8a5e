"""``/pools``: Airflow 3's pool CRUD, through ``updraft.core.pools``, with each pool's slot usage.

``default_pool`` cannot be deleted or renamed (400); a name that is taken is 409. An unlimited pool
(``slots: -1``) reports ``open_slots: -1``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Table, select

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
from updraft.core import pools
from updraft.core.db.models import Pool

router = APIRouter(tags=["Pool"])
_POOL: Table = Pool.__table__  # type: ignore[assignment]
_ORDER = {"name": _POOL.c.pool, "pool": _POOL.c.pool, "slots": _POOL.c.slots, "id": _POOL.c.id}


class PoolResponse(BaseModel):
    name: str
    slots: int
    description: str | None
    include_deferred: bool
    occupied_slots: int
    running_slots: int
    queued_slots: int
    scheduled_slots: int
    open_slots: int
    deferred_slots: int


class PoolCollectionResponse(BaseModel):
    pools: list[PoolResponse]
    total_entries: int


#: The slots column is an INTEGER; more slots than this are refused with a 422 naming ``slots``.
MAX_SLOTS = 2**31 - 1


class PoolBody(Body):
    name: str = Field(max_length=pools.MAX_NAME_LENGTH)
    slots: int = Field(ge=pools.UNLIMITED, le=MAX_SLOTS)
    description: str | None = None
    include_deferred: bool = False


class PoolPatchBody(Body):
    pool: str | None = Field(default=None, max_length=pools.MAX_NAME_LENGTH)
    slots: int | None = Field(default=None, ge=pools.UNLIMITED, le=MAX_SLOTS)
    description: str | None = None
    include_deferred: bool | None = None


def _responses(conn: Connection, rows: list[Any]) -> list[PoolResponse]:
    usage = pools.pool_usage(conn)
    out = []
    for row in rows:
        use = usage.get(row.pool)
        running = use.running_slots if use else 0
        queued = use.queued_slots if use else 0
        open_slots = use.open_slots if use else float(row.slots)
        unlimited = row.slots == pools.UNLIMITED or math.isinf(open_slots)
        out.append(
            PoolResponse(
                name=row.pool,
                slots=row.slots,
                description=row.description,
                include_deferred=bool(row.include_deferred),
                occupied_slots=running + queued if unlimited else int(row.slots - open_slots),
                running_slots=running,
                queued_slots=queued,
                scheduled_slots=0,
                open_slots=-1 if unlimited else int(open_slots),
                deferred_slots=0,
            )
        )
    return out


def _get(conn: Connection, name: str) -> PoolResponse:
    row = conn.execute(select(_POOL).where(_POOL.c.pool == name)).first()
    if row is None:
        raise not_found(f"pool {name!r}")
    return _responses(conn, [row])[0]


@router.get("/pools")
def get_pools(
    conn: Conn,
    user: Annotated[CurrentUser, Depends(require(Permission.POOLS_READ))],
    limit: Limit = 50,
    offset: Offset = 0,
    pool_name_pattern: str | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> PoolCollectionResponse:
    query = select(_POOL)
    if pool_name_pattern:
        query = query.where(_POOL.c.pool.ilike(f"%{pool_name_pattern}%"))
    total = count_of(conn, query)
    rows = conn.execute(apply_order(query, order_by, _ORDER, ["id"]).limit(limit).offset(offset)).all()
    return PoolCollectionResponse(pools=_responses(conn, list(rows)), total_entries=total)


@router.get("/pools/{pool_name}")
def get_pool(
    pool_name: str, conn: Conn, user: Annotated[CurrentUser, Depends(require(Permission.POOLS_READ))]
) -> PoolResponse:
    return _get(conn, pool_name)


@router.post("/pools", status_code=status.HTTP_201_CREATED)
def post_pool(
    body: PoolBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.POOLS_EDIT))],
) -> PoolResponse:
    if pools.get_pool(conn, body.name) is not None:
        raise conflict(f"pool {body.name!r} already exists")
    try:
        pools.set_pool(conn, body.name, body.slots, body.description, body.include_deferred)
    except pools.PoolError as exc:
        raise bad_request(str(exc)) from None
    record_event(conn, user, request, "post_pool", extra=body.model_dump())
    return _get(conn, body.name)


@router.patch("/pools/{pool_name}")
def patch_pool(
    pool_name: str,
    body: PoolPatchBody,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.POOLS_EDIT))],
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> PoolResponse:
    """Change a pool's slots, description or include_deferred; a pool cannot be renamed here."""
    current = pools.get_pool(conn, pool_name)
    if current is None:
        raise not_found(f"pool {pool_name!r}")
    fields = set(update_mask) if update_mask else set(body.model_fields_set)
    unknown = sorted(fields - {"pool", "name", "slots", "description", "include_deferred"})
    if unknown:
        raise bad_request(f"update_mask: these fields cannot be updated: {', '.join(unknown)}")
    new_name = body.pool if fields & {"pool", "name"} else None
    if new_name is not None and new_name != pool_name:
        raise bad_request(f"pool: pool {pool_name!r} cannot be renamed; create a new pool instead")
    slots = body.slots if "slots" in fields and body.slots is not None else current.slots
    description = body.description if "description" in fields else current.description
    deferred = current.include_deferred
    if "include_deferred" in fields and body.include_deferred is not None:
        deferred = body.include_deferred
    try:
        pools.set_pool(conn, pool_name, slots, description, deferred)
    except pools.PoolError as exc:
        raise bad_request(str(exc)) from None
    record_event(conn, user, request, "patch_pool", extra={"name": pool_name, "fields": sorted(fields)})
    return _get(conn, pool_name)


@router.delete("/pools/{pool_name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_pool(
    pool_name: str,
    conn: Conn,
    request: Request,
    user: Annotated[CurrentUser, Depends(require(Permission.POOLS_EDIT))],
) -> Response:
    try:
        pools.delete_pool(conn, pool_name)
    except pools.PoolNotFound:
        raise not_found(f"pool {pool_name!r}") from None
    except pools.PoolError as exc:
        raise bad_request(str(exc)) from None
    record_event(conn, user, request, "delete_pool", extra={"name": pool_name})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
