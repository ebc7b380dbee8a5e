"""Every route of the real app declares a permission, and each role gets exactly what it grants.

The app's routes are walked (not listed by hand), so a new route without ``require(Permission.X)``
fails here. Path parameters get placeholder values; for a caller who is allowed, any answer but
401/403 or a server error passes (404, 400 and 422 are expected for placeholders).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import PASSWORD
from updraft.api.app import create_app
from updraft.api.security.permissions import ROLE_PERMISSIONS, Permission, Role
from updraft.core.users import create_user

ROLES = {"admin": Role.ADMIN, "op": Role.OP, "user": Role.USER, "viewer": Role.VIEWER}
#: Routes anyone may call (besides the app's own docs and OpenAPI routes); everything else needs a login.
PUBLIC_PATHS = frozenset(
    {"/health", "/api/v2/monitor/health", "/api/v2/version", "/api/v2/docs", "/favicon.ico"}
)
#: Mounted static file folders (CSS, JS), served to anyone so the login and docs pages can use them.
PUBLIC_MOUNTS = frozenset({"/static", "/api/v2/docs/static"})
PUBLIC_PREFIXES = ("/auth/",)
#: Routes any logged-in user may call, on purpose without a permission.
LOGIN_ONLY: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    url: str
    permissions: frozenset[Permission]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _permissions(dependant: Dependant) -> set[Permission]:
    found: set[Permission] = set()
    permission = getattr(dependant.call, "required_permission", None)
    if isinstance(permission, Permission):
        found.add(permission)
    for sub in dependant.dependencies:
        found |= _permissions(sub)
    return found


def _placeholder(annotation: Any) -> str:
    if inspect.isclass(annotation) and issubclass(annotation, int):
        return "1"
    return "placeholder"


def _url(path_format: str, dependant: Dependant) -> str:
    values = {param.name: _placeholder(param.field_info.annotation) for param in dependant.path_params}
    return path_format.format(**values)


def _is_page(path: str) -> bool:
    """A UI page (HTML): an anonymous visitor is sent to the login form instead of a 401."""
    return not path.startswith(("/api/", "/ui/", "/auth/"))


def _is_public(app: FastAPI, path: str) -> bool:
    docs = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    return path in PUBLIC_PATHS | PUBLIC_MOUNTS or path in docs or path.startswith(PUBLIC_PREFIXES)


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) of the app but the public ones; fails on a route with no permission."""
    found, undeclared = [], []
    for route in iter_route_contexts(app.routes):  # flattens included routers
        path = route.path or ""
        if _is_public(app, path):
            continue
        dependant = getattr(route, "dependant", None)
        assert isinstance(dependant, Dependant), f"{path} is not an API route; is it public on purpose?"
        permissions = frozenset(_permissions(dependant))
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            if not permissions and (method, path) not in LOGIN_ONLY:
                undeclared.append(f"{method} {path}")
            found.append(Endpoint(method, path, _url(route.path_format or path, dependant), permissions))
    assert not undeclared, f"routes without require(Permission.X): {', '.join(undeclared)}"
    return found


@pytest.fixture
def setup(engine: Engine) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], list[Endpoint]]]:
    with engine.begin() as conn:
        for username, role in ROLES.items():
            create_user(
                conn,
                username=username,
                first_name=username.title(),
                last_name="Tester",
                email=f"{username}@example.com",
                roles=[role.value],
                password=PASSWORD,
            )
    app = create_app(engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = {}
        for username in ROLES:
            answer = client.post("/auth/token", json={"username": username, "password": PASSWORD})
            assert answer.status_code == 201, answer.text
            headers[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        yield client, headers, endpoints(app)


def test_every_route_enforces_its_permission(
    setup: tuple[TestClient, dict[str, dict[str, str]], list[Endpoint]],
) -> None:
    client, headers, found = setup
    assert len(found) > 20, "too few routes found; is the walk broken?"
    failures: list[str] = []
    # Admin last: its placeholder DELETEs must not remove what the other callers still use.
    callers: list[tuple[str, Role | None]] = [("anonymous", None), *[(u, ROLES[u]) for u in reversed(ROLES)]]
    for endpoint in found:
        for username, role in callers:
            client.cookies.clear()  # only the caller's own credentials count
            answer = client.request(
                endpoint.method,
                endpoint.url,
                headers=headers.get(username, {}),
                json={} if endpoint.method in {"POST", "PUT", "PATCH"} else None,
                follow_redirects=False,
            )
            if role is None and _is_page(endpoint.path):
                expected = "303 to the login form"
                ok = answer.status_code == 303 and answer.headers["location"].startswith("/auth/login?next=")
            elif role is None:
                expected = "401"
                ok = answer.status_code == 401
            elif endpoint.permissions <= ROLE_PERMISSIONS[role]:
                expected = "neither 401/403 nor 5xx"
                ok = answer.status_code not in (401, 403) and answer.status_code < 500
            else:
                expected = "403"
                ok = answer.status_code == 403
            if not ok:
                failures.append(f"{endpoint} as {username}: {answer.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_a_route_without_permission_is_caught(engine: Engine) -> None:
    app = create_app(engine)

    @app.get("/api/v2/unguarded")
    def unguarded() -> dict[str, str]:
        return {}

    with pytest.raises(AssertionError, match="GET /api/v2/unguarded"):
        endpoints(app)


def test_the_walk_reads_permissions_through_nested_dependencies(engine: Engine) -> None:
    by_route = {(e.method, e.path): e.permissions for e in endpoints(create_app(engine))}
    assert by_route[("GET", "/api/v2/eventLogs")] == {Permission.AUDIT_LOG_READ}
    assert by_route[("DELETE", "/api/v2/users/{username}")] == {Permission.USERS_EDIT}
    assert ("GET", "/api/v2/version") not in by_route  # public, so not walked


def test_public_routes_answer_anonymous_callers(engine: Engine) -> None:
    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        for path in sorted(PUBLIC_PATHS):
            assert client.get(path).status_code == 200, path
