"""Login routes: ``POST /auth/token`` (JWT for scripts), the HTML login form, and logout.

``POST /auth/token`` takes JSON ``{"username", "password"}`` and answers ``{"access_token",
"token_type": "bearer"}`` (201, as Airflow 3). ``GET /auth/login`` shows a minimal form (own HTML, no
CDN); ``POST /auth/login`` checks its CSRF token and the credentials, then sets a new session cookie
and redirects to ``next``. ``POST /auth/logout`` (CSRF-checked) clears the cookie. Failed logins are
rate-limited per username and per client address (429 with ``Retry-After``).
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from updraft.api.security.dependencies import check_password
from updraft.api.security.session import (
    CSRF_FIELD,
    clear_session_cookie,
    csrf_matches,
    csrf_token,
    new_login_session,
    read_session,
    set_session_cookie,
    verify_csrf,
)
from updraft.api.security.tokens import issue_token

__all__ = ["TokenRequest", "TokenResponse", "csrf_token", "router", "verify_csrf"]

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenRequest(BaseModel):
    username: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/token", status_code=status.HTTP_201_CREATED, response_model=TokenResponse)
async def create_token(body: TokenRequest, request: Request) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    user = await run_in_threadpool(check_password, request, body.username, body.password)
    return TokenResponse(access_token=issue_token(user.username, user.roles))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Updraft</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;background:#f4f6f8;display:flex;justify-content:center;margin-top:10vh}}
form{{background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0002;width:18em}}
label{{display:block;margin-top:1em}} input{{width:100%;padding:.4em;box-sizing:border-box}}
button{{margin-top:1.5em;width:100%;padding:.5em}} .error{{color:#b00020}}
</style></head><body>
<form method="post" action="/auth/login">
<h1>Updraft</h1>{error}
<input type="hidden" name="{field}" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form></body></html>
"""


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or ``scheme://``), so login is no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, next_url: str, error: str | None, status_code: int) -> HTMLResponse:
    body = _PAGE.format(
        error=f'<p class="error">{html.escape(error)}</p>' if error else "",
        field=CSRF_FIELD,
        csrf=html.escape(csrf_token(request)),
        next=html.escape(_safe_next(next_url)),
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _login_page(request, next, None, status.HTTP_200_OK)


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    if not csrf_matches(request, form.get(CSRF_FIELD)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token; reload the page")
    next_url = _safe_next(form.get("next"))
    try:
        user = await run_in_threadpool(
            check_password, request, form.get("username", ""), form.get("password", "")
        )
    except HTTPException as exc:
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            return _login_page(request, next_url, "Invalid username or password.", exc.status_code)
        raise
    response = RedirectResponse(next_url, status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, request, new_login_session(user.id))
    return response


@router.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> Response:
    response = RedirectResponse("/auth/login", status_code=status.HTTP_303_SEE_OTHER)
    if read_session(request) is not None:
        clear_session_cookie(response, request)
    return response
