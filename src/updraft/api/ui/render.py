"""Rendering UI pages: the Jinja2 environment, the page-login dependency and HTML error pages.

Templates are ours (``templates/``), autoescaped; nothing a DAG author wrote is ever rendered
as a template. ``require_page(Permission.X)`` is the page counterpart of ``require``: an
anonymous visitor is sent to the login form (303, with ``next``), a logged-in user without the
permission gets a 403 page. Every page gets ``user``, ``can`` (permission values), ``csrf`` and
``static_url``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from updraft.api.security.dependencies import CurrentUser, get_current_user
from updraft.api.security.permissions import Permission
from updraft.api.security.session import csrf_token
from updraft.api.ui import STATIC_DIR, TEMPLATE_DIR

__all__ = ["LoginRequired", "login_redirect", "page", "require_page", "static_url", "wants_html"]


class LoginRequired(Exception):
    """Raised by a page dependency for an anonymous visitor; answered with a redirect to login."""


@cache
def _static_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: browsers may cache it for as long as it is unchanged."""
    return f"/static/{name}?v={_static_version(name)}"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    return env


def page(
    request: Request, template: str, user: CurrentUser | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``template`` for ``user`` with the common page context."""
    body = (
        _environment()
        .get_template(template)
        .render(
            request=request,
            user=user,
            can={p.value for p in user.permissions} if user else set(),
            csrf=csrf_token(request),
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def require_page(permission: Permission) -> Callable[..., Any]:
    """A page dependency: redirect to login when anonymous, 403 without ``permission``."""

    async def check(request: Request) -> CurrentUser:
        try:
            user = await get_current_user(request)
        except HTTPException as exc:
            if exc.status_code == status.HTTP_401_UNAUTHORIZED:
                raise LoginRequired from None
            raise
        if not user.can(permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {permission.value!r} permission")
        return user

    check.required_permission = permission  # type: ignore[attr-defined]
    return check


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(
        f"/auth/login?next={quote(target, safe='')}", status_code=status.HTTP_303_SEE_OTHER
    )


def wants_html(request: Request) -> bool:
    """A browser page request (not the API, not a script asking for JSON)."""
    path = request.url.path
    if path.startswith(("/api/", "/ui/", "/auth/token")):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status_code: int, detail: Any) -> HTMLResponse:
    return page(request, "error.html", None, status_code=status_code, status=status_code, detail=detail)
