"""FastAPI dependencies that authenticate the caller and check one permission per route.

``get_current_user`` accepts, in this order: ``Authorization: Bearer <jwt>`` (from ``POST
/auth/token``), ``Authorization: Basic`` (for scripts; failures count toward the login rate limit),
or the UI session cookie. A request authenticated by the cookie with an unsafe method (POST, PUT,
PATCH, DELETE) must also carry the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token``
form field). Roles are read from the DB on every request; an inactive or deleted user is refused.
``require(Permission.X)`` is what every route declares.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from updraft.api.security.permissions import Permission, Role, parse_role, permissions_of
from updraft.api.security.ratelimit import LoginRateLimiter, login_keys
from updraft.api.security.session import csrf_matches, read_session, submitted_csrf_token
from updraft.api.security.tokens import InvalidToken, decode_token
from updraft.core.db.engine import get_engine
from updraft.core.users import UserInfo, authenticate, get_user, get_user_by_id

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def engine_of(request: Request) -> Engine:
    """The metadata DB engine of the app (``create_app(engine=...)``), else the configured one."""
    engine = getattr(request.app.state, "engine", None)
    return engine if engine is not None else get_engine()


def login_limiter(request: Request) -> LoginRateLimiter:
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = request.app.state.login_limiter = LoginRateLimiter()
    return limiter


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _unauthorized(detail: str, scheme: str = "Bearer") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": scheme})


def too_many_attempts(retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many failed logins; try again in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def as_current_user(user: UserInfo) -> CurrentUser:
    return CurrentUser(user.id, user.username, frozenset(parse_role(r) for r in user.roles))


def check_password(request: Request, username: str, password: str, scheme: str = "Bearer") -> UserInfo:
    """The user with these credentials (blocking DB work); 429 when rate-limited, 401 when wrong."""
    limiter = login_limiter(request)
    keys = login_keys(username, client_ip(request))
    wait = limiter.retry_after(keys)
    if wait is not None:
        raise too_many_attempts(wait)
    with engine_of(request).begin() as conn:
        user = authenticate(conn, username, password)
    if user is None:
        limiter.failed(keys)
        raise _unauthorized("invalid username or password", scheme)
    limiter.succeeded(username)
    return user


def _from_authorization(request: Request, header: str) -> CurrentUser:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        try:
            claims = decode_token(value)
        except InvalidToken as exc:
            raise _unauthorized(str(exc)) from None
        with engine_of(request).connect() as conn:
            user = get_user(conn, claims["sub"])
        if user is None or not user.active:
            raise _unauthorized("the user of this token does not exist or is inactive")
        return as_current_user(user)
    if scheme.lower() == "basic" and value:
        try:
            username, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username, sep, password = "", "", ""
        if not sep or not username:
            raise _unauthorized("malformed basic credentials", "Basic")
        return as_current_user(check_password(request, username, password, scheme="Basic"))
    raise _unauthorized("unsupported Authorization header; use Bearer <token> or Basic")


def _from_session(request: Request, session: dict[str, object]) -> CurrentUser:
    uid = session.get("uid")
    if not isinstance(uid, int):
        raise _unauthorized("not authenticated")
    with engine_of(request).connect() as conn:
        user = get_user_by_id(conn, uid)
    if user is None or not user.active:
        raise _unauthorized("the user of this session does not exist or is inactive")
    return as_current_user(user)


async def get_current_user(request: Request) -> CurrentUser:
    """The authenticated user; 401 when the request carries no valid credentials.

    The outcome (the user, or the 401/403) is kept for the rest of the request, so the credentials
    are checked once however many dependencies ask (see :func:`authenticate_first`).
    """
    outcome = getattr(request.state, "auth_outcome", None)
    if isinstance(outcome, CurrentUser):
        return outcome
    if isinstance(outcome, HTTPException):
        raise outcome
    try:
        user = await _authenticate(request)
    except HTTPException as exc:
        request.state.auth_outcome = exc
        raise
    request.state.auth_outcome = user
    return user


async def authenticate_first(request: Request) -> None:
    """Check the credentials now, without failing; the route's own auth dependency fails later.

    The DB connection dependency takes its pooled connection only after this, so a request never
    holds one connection while the login lookup waits for another (a pool-wide deadlock under load).
    """
    try:
        await get_current_user(request)
    except HTTPException:
        pass


async def _authenticate(request: Request) -> CurrentUser:
    header = request.headers.get("authorization")
    if header:
        return await run_in_threadpool(_from_authorization, request, header)
    session = read_session(request)
    if session is None:
        raise _unauthorized("not authenticated")
    if request.method.upper() not in _SAFE_METHODS and not csrf_matches(
        request, await submitted_csrf_token(request)
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token; reload the page")
    return await run_in_threadpool(_from_session, request, session)


def require(permission: Permission) -> Callable[..., Awaitable[CurrentUser]]:
    """A dependency for a route that needs ``permission``: 401 if anonymous, 403 if not allowed."""

    async def check(user: CurrentUser = Depends(get_current_user)) -> CurrentUser:
        # async: a pure check, so it runs on the event loop instead of costing a threadpool hop.
        if not user.can(permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {permission.value!r} permission")
        return user

    check.required_permission = permission  # type: ignore[attr-defined]
    return check
