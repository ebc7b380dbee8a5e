"""``/users`` and ``/roles``: user administration (Admin only), through ``updraft.core.users``.

Field names follow Airflow's FAB user API (``roles`` as ``[{"name": "Op"}]``; a plain list of role
names is accepted too). Passwords are write-only: no answer carries one, nor its hash, and audit
events never record it. A taken username or email is 409, an unknown user 404, an invalid field or
role 400 naming it. An admin cannot delete or deactivate their own account (400).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import Connection

from updraft.api.audit import record_event
from updraft.api.routes.deps import Body, Conn, Limit, Offset, bad_request, conflict, not_found
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import ROLE_PERMISSIONS, Permission
from updraft.core import users
from updraft.core.users import UserError, UserExists, UserInfo, UserNotFound

router = APIRouter(tags=["User"])
_Reader = Annotated[CurrentUser, Depends(require(Permission.USERS_READ))]
_Editor = Annotated[CurrentUser, Depends(require(Permission.USERS_EDIT))]
_SORT_KEYS = ("username", "email", "first_name", "last_name", "id", "active", "created_on", "last_login")
_PATCHABLE = frozenset({"first_name", "last_name", "email", "roles", "password", "active"})


class RoleRef(BaseModel):
    name: str


class UserResponse(BaseModel):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    active: bool
    roles: list[RoleRef]
    created_on: datetime | None
    last_login: datetime | None
    failed_login_count: int


class UserCollectionResponse(BaseModel):
    users: list[UserResponse]
    total_entries: int


class RoleResponse(BaseModel):
    name: str
    permissions: list[str]


class RoleCollectionResponse(BaseModel):
    roles: list[RoleResponse]
    total_entries: int


class UserBody(Body):
    username: str
    first_name: str
    last_name: str
    email: str
    roles: list[RoleRef | str]
    password: str
    active: bool = True


class UserPatchBody(Body):
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    roles: list[RoleRef | str] | None = None
    password: str | None = None
    active: bool | None = None


def _role_names(roles: list[RoleRef | str]) -> list[str]:
    names = [role.name if isinstance(role, RoleRef) else role for role in roles]
    try:
        return sorted({users.validate_role(name) for name in names})
    except UserError as exc:
        raise bad_request(f"roles: {exc}") from None


def _response(user: UserInfo) -> UserResponse:
    return UserResponse(
        id=user.id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        active=user.active,
        roles=[RoleRef(name=role) for role in user.roles],
        created_on=user.created_at,
        last_login=user.last_login,
        failed_login_count=user.failed_login_count,
    )


def _sort_key(user: UserInfo, name: str) -> Any:
    value = user.created_at if name == "created_on" else getattr(user, name)
    return (value is None, value if value is not None else 0)


def _sorted(found: list[UserInfo], order_by: list[str] | None) -> list[UserInfo]:
    """Sort like ``apply_order`` does in SQL; users are few, so this sorts in Python."""
    keys = [key.strip() for value in (order_by or ["username"]) for key in value.split(",") if key.strip()]
    for key in keys:
        if key.lstrip("-") not in _SORT_KEYS:
            allowed = ", ".join(sorted(_SORT_KEYS))
            raise bad_request(f"order_by: cannot sort by {key.lstrip('-')!r}; allowed fields are: {allowed}")
    for key in reversed(keys):  # stable sorts, last key first
        name = key.lstrip("-")
        found = sorted(found, key=partial(_sort_key, name=name), reverse=key.startswith("-"))
    return found


def _get(conn: Connection, username: str) -> UserInfo:
    user = users.get_user(conn, username)
    if user is None:
        raise not_found(f"user {username!r}")
    return user


def _replace_roles(conn: Connection, existing: UserInfo, roles: list[str]) -> None:
    if not roles:
        raise bad_request(f"roles: user {existing.username!r} needs at least one role")
    for role in roles:
        users.add_role(conn, existing.username, role)
    for role in set(existing.roles) - set(roles):
        users.remove_role(conn, existing.username, role)


@router.get("/users")
def get_users(
    conn: Conn,
    user: _Reader,
    limit: Limit = 100,
    offset: Offset = 0,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> UserCollectionResponse:
    found = _sorted(users.list_users(conn), order_by)
    page = found[offset : offset + limit]
    return UserCollectionResponse(users=[_response(u) for u in page], total_entries=len(found))


@router.get("/users/{username}")
def get_user(username: str, conn: Conn, user: _Reader) -> UserResponse:
    return _response(_get(conn, username))


@router.post("/users", status_code=status.HTTP_201_CREATED)
def post_user(body: UserBody, conn: Conn, request: Request, user: _Editor) -> UserResponse:
    roles = _role_names(body.roles)
    try:
        created = users.create_user(
            conn,
            username=body.username,
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
            roles=roles,
            password=body.password,
            active=body.active,
        )
    except UserExists as exc:
        raise conflict(str(exc)) from None
    except UserError as exc:
        raise bad_request(str(exc)) from None
    record_event(conn, user, request, "post_user", extra={"username": created.username, "roles": roles})
    return _response(created)


@router.patch("/users/{username}")
def patch_user(
    username: str,
    body: UserPatchBody,
    conn: Conn,
    request: Request,
    user: _Editor,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> UserResponse:
    """Change the fields named by ``update_mask`` (default: those in the body); not the username."""
    if body.username is not None and body.username != username:
        raise bad_request(
            f"username: the body's username {body.username!r} differs from the path's {username!r}"
        )
    fields = (
        {f.strip() for m in update_mask for f in m.split(",")} if update_mask else set(body.model_fields_set)
    )
    fields.discard("username")
    unknown = sorted(fields - _PATCHABLE)
    if unknown:
        raise bad_request(
            f"update_mask: cannot update {', '.join(unknown)}; fields are {', '.join(sorted(_PATCHABLE))}"
        )
    for name in fields:
        if getattr(body, name) is None:
            raise bad_request(f"{name}: must not be null")
    existing = _get(conn, username)
    if body.active is False and "active" in fields and existing.id == user.id:
        raise bad_request("active: you cannot deactivate your own account")
    try:
        users.update_profile(
            conn,
            username,
            first_name=body.first_name if "first_name" in fields else None,
            last_name=body.last_name if "last_name" in fields else None,
            email=body.email if "email" in fields else None,
        )
        if "roles" in fields:
            _replace_roles(conn, existing, _role_names(body.roles or []))
        if "password" in fields and body.password is not None:
            users.reset_password(conn, username, body.password)
        if "active" in fields and body.active is not None:
            users.set_active(conn, username, body.active)
    except UserExists as exc:
        raise conflict(str(exc)) from None
    except UserNotFound:
        raise not_found(f"user {username!r}") from None
    except UserError as exc:
        raise bad_request(str(exc)) from None
    record_event(conn, user, request, "patch_user", extra={"username": username, "fields": sorted(fields)})
    return _response(_get(conn, username))


@router.delete("/users/{username}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(username: str, conn: Conn, request: Request, user: _Editor) -> Response:
    if username == user.username:
        raise bad_request("username: you cannot delete your own account")
    try:
        users.delete_user(conn, username)
    except UserNotFound:
        raise not_found(f"user {username!r}") from None
    record_event(conn, user, request, "delete_user", extra={"username": username})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/roles")
def get_roles(user: _Reader) -> RoleCollectionResponse:
    """Every role with its permissions (fixed by Updraft; roles cannot be edited)."""
    roles = [
        RoleResponse(name=role.value, permissions=sorted(p.value for p in granted))
        for role, granted in ROLE_PERMISSIONS.items()
    ]
    return RoleCollectionResponse(roles=roles, total_entries=len(roles))
