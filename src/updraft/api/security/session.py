"""The UI session cookie and CSRF tokens.

The cookie ``updraft_session`` holds ``{"sid", "uid", "iat"}`` (base64url JSON) and an HMAC-SHA256
signature by :func:`updraft.api.security.tokens.secret_key`; ``uid`` is None before login. It is
HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS. A new ``sid`` is made at
login (no session fixation). The CSRF token of a session is ``HMAC(key, "csrf:" + sid)``: a form
carries it as the ``csrf_token`` field, a script as the ``X-CSRF-Token`` header.

:func:`csrf_token` makes an anonymous session when there is none; the app's middleware then sets
its cookie on the response (see ``updraft.api.app``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request, Response, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from updraft.api.security.tokens import secret_key
from updraft.core.config import conf

__all__ = [
    "COOKIE_NAME",
    "CSRF_FIELD",
    "SessionCookieMiddleware",
    "CSRF_HEADER",
    "apply_pending_session",
    "clear_session_cookie",
    "csrf_matches",
    "csrf_token",
    "new_login_session",
    "read_session",
    "set_session_cookie",
    "submitted_csrf_token",
    "verify_csrf",
]

COOKIE_NAME = "updraft_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(payload: str) -> str:
    return _b64(hmac.new(secret_key(), b"session:" + payload.encode("ascii"), hashlib.sha256).digest())


def _encode(session: dict[str, Any]) -> str:
    payload = _b64(json.dumps(session, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_sign(payload)}"


def _lifetime() -> int:
    return conf.getint("api", "access_token_expiration")


def read_session(request: Request) -> dict[str, Any] | None:
    """The session of the request's cookie if its signature is right and it has not expired."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw or "." not in raw:
        return None
    payload, signature = raw.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(payload)):
        return None
    try:
        session = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    if not isinstance(session, dict) or not isinstance(session.get("sid"), str):
        return None
    if not isinstance(session.get("iat"), int) or session["iat"] + _lifetime() < time.time():
        return None
    return session


def _current_sid(request: Request) -> str | None:
    pending = getattr(request.state, "pending_session", None)
    if pending is not None:
        return str(pending["sid"])
    session = read_session(request)
    return session["sid"] if session else None


def _csrf_for(sid: str) -> str:
    return _b64(hmac.new(secret_key(), b"csrf:" + sid.encode("ascii"), hashlib.sha256).digest())


def csrf_token(request: Request) -> str:
    """The CSRF token to put in a form of this session (making an anonymous session if needed)."""
    sid = _current_sid(request)
    if sid is None:
        sid = secrets.token_urlsafe(24)
        request.state.pending_session = {"sid": sid, "uid": None, "iat": int(time.time())}
    return _csrf_for(sid)


def set_session_cookie(response: Response, request: Request, session: dict[str, Any]) -> None:
    response.set_cookie(
        COOKIE_NAME,
        _encode(session),
        max_age=_lifetime(),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def new_login_session(user_id: int) -> dict[str, Any]:
    return {"sid": secrets.token_urlsafe(24), "uid": user_id, "iat": int(time.time())}


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )


def apply_pending_session(request: Request, response: Response) -> None:
    """Set the cookie of a session that :func:`csrf_token` made during this request."""
    pending = getattr(request.state, "pending_session", None)
    if pending is not None and COOKIE_NAME not in response.headers.get("set-cookie", ""):
        set_session_cookie(response, request, pending)


class SessionCookieMiddleware:
    """Pure ASGI middleware: adds the cookie of a session made during the request (see
    :func:`csrf_token`) to the response's headers. (Starlette's ``BaseHTTPMiddleware`` would cost
    an extra task and a streamed copy of every response.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                pending = scope.get("state", {}).get("pending_session")
                headers = list(message.get("headers", []))
                already = any(k.lower() == b"set-cookie" and COOKIE_NAME.encode() in v for k, v in headers)
                if pending is not None and not already:
                    carrier = Response()
                    set_session_cookie(carrier, Request(scope), pending)
                    headers += [(k, v) for k, v in carrier.raw_headers if k == b"set-cookie"]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def submitted_csrf_token(request: Request) -> str | None:
    """The CSRF token the request carries: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _FORM_TYPES:
        return None
    form = getattr(request, "_form", None)  # already parsed by a route with Form(...) parameters
    if form is not None:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    if content_type != "application/x-www-form-urlencoded":
        return None
    try:
        body = await request.body()
    except RuntimeError:
        return None
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        if key == CSRF_FIELD:
            return value
    return None


def csrf_matches(request: Request, submitted: str | None) -> bool:
    session = read_session(request)
    if session is None or not submitted:
        return False
    return hmac.compare_digest(submitted, _csrf_for(session["sid"]))


async def verify_csrf(request: Request) -> None:
    """A dependency for every state-changing form POST: 403 unless the session's CSRF token is sent."""
    if not csrf_matches(request, await submitted_csrf_token(request)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token; reload the page")
