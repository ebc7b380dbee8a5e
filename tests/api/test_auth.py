"""Login and roles: tokens, basic auth, the session cookie with CSRF, rate limits, 401 vs 403."""

from __future__ import annotations

import base64
import re
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, select
from sqlalchemy.pool import QueuePool

from tests.api.conftest import PASSWORD, Api
from updraft.api.app import create_app
from updraft.api.audit import record_event
from updraft.api.security.dependencies import CurrentUser
from updraft.api.security.passwords import hash_password, verify_password
from updraft.api.security.permissions import Role
from updraft.api.security.tokens import issue_token, secret_key_path
from updraft.core.db.models import Log, User
from updraft.core.users import ROLE_NAMES, get_user, set_active


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_role_names_match_permissions() -> None:
    assert set(ROLE_NAMES) == {r.value for r in Role}


def test_password_hash_is_scrypt_and_salted() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert verify_password("s3cret", first) and not verify_password("wrong", first)
    assert not verify_password("s3cret", "garbage")


def test_token_issue_and_use(api: Api, updraft_home: Path) -> None:
    response = api.client.post("/auth/token", json={"username": "viewer", "password": PASSWORD})
    assert response.status_code == 201
    assert response.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert api.client.get("/api/v2/dags", headers=headers).json() == {"dags": [], "total_entries": 0}
    key = secret_key_path()
    assert key.parent == updraft_home and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_bad_credentials_401_with_json_error(api: Api) -> None:
    response = api.client.post("/auth/token", json={"username": "viewer", "password": "nope"})
    assert response.status_code == 401
    assert response.json() == {
        "detail": "invalid username or password",
        "status": 401,
        "title": "Unauthorized",
    }
    with api.engine.connect() as conn:
        assert conn.scalar(select(User.failed_login_count).where(User.username == "viewer")) == 1


def test_expired_and_tampered_tokens(api: Api) -> None:
    old = issue_token("viewer", ["Viewer"], now=datetime.now(timezone.utc) - timedelta(days=2))
    response = api.client.get("/api/v2/dags", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    token = api.token("viewer")
    header, payload, signature = token.split(".")
    claims = base64.urlsafe_b64decode(payload + "==").replace(b'"viewer"', b'"admin"')
    forged = ".".join([header, base64.urlsafe_b64encode(claims).rstrip(b"=").decode(), signature])
    assert api.client.get("/api/v2/dags", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert api.client.get("/api/v2/dags", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
    assert api.client.get("/api/v2/dags", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_version_is_public_like_airflow_3(api: Api) -> None:
    # Clients (apache-airflow-client among them) ask for the version before, or without, logging in.
    expected = {"version": "0.1.0", "git_version": None}
    assert api.client.get("/api/v2/version").json() == expected
    assert api.client.get("/api/v2/version", headers={"Authorization": "Bearer x.y.z"}).json() == expected


def test_basic_auth(api: Api) -> None:
    assert api.client.get("/api/v2/test/pools", headers=basic("viewer")).json() == {"user": "viewer"}
    response = api.client.get("/api/v2/test/pools", headers=basic("viewer", "wrong"))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Basic"


def test_401_anonymous_vs_403_role(api: Api) -> None:
    assert api.client.get("/api/v2/test/pools").status_code == 401
    assert api.client.get("/api/v2/dags").status_code == 401
    response = api.client.post("/api/v2/test/pools", headers=api.bearer("user"))
    assert response.status_code == 403 and response.json()["title"] == "Forbidden"
    assert api.client.post("/api/v2/test/pools", headers=api.bearer("op")).json() == {"user": "op"}
    assert api.client.post("/api/v2/test/pools", headers=api.bearer("admin")).status_code == 200


def test_inactive_user_is_refused(api: Api) -> None:
    headers = api.bearer("viewer")
    with api.engine.begin() as conn:
        set_active(conn, "viewer", False)
    assert api.client.get("/api/v2/test/pools", headers=headers).status_code == 401
    assert api.client.get("/api/v2/test/pools", headers=basic("viewer")).status_code == 401
    response = api.client.post("/auth/token", json={"username": "viewer", "password": PASSWORD})
    assert response.status_code == 401


def _login_form(api: Api) -> str:
    page = api.client.get("/auth/login")
    assert page.status_code == 200 and "<form" in page.text and "http" not in page.text.split("<body>")[1]
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_cookie_login_csrf_and_logout(api: Api) -> None:
    csrf = _login_form(api)
    form = {"username": "op", "password": PASSWORD, "next": "/api/v2/dags"}
    assert api.client.post("/auth/login", data=form, follow_redirects=False).status_code == 403
    assert (
        api.client.post("/auth/login", data={**form, "csrf_token": "x"}, follow_redirects=False).status_code
        == 403
    )
    response = api.client.post("/auth/login", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/api/v2/dags"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert api.client.get("/api/v2/test/pools").json() == {"user": "op"}
    # The session is new at login, so the pre-login CSRF token no longer works.
    assert api.client.post("/api/v2/test/pools").status_code == 403
    assert api.client.post("/api/v2/test/pools", headers={"X-CSRF-Token": csrf}).status_code == 403
    csrf = _login_form(api)
    assert api.client.post("/api/v2/test/pools", headers={"X-CSRF-Token": csrf}).json() == {"user": "op"}
    assert api.client.post("/auth/logout", follow_redirects=False).status_code == 403
    response = api.client.post("/auth/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert api.client.get("/api/v2/test/pools").status_code == 401


def test_login_form_open_redirect_and_wrong_password(api: Api) -> None:
    csrf = _login_form(api)
    form = {"username": "op", "password": "bad", "csrf_token": csrf, "next": "//evil.example"}
    response = api.client.post("/auth/login", data=form, follow_redirects=False)
    assert response.status_code == 401 and "Invalid username or password" in response.text
    response = api.client.post("/auth/login", data={**form, "password": PASSWORD}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_https_cookie_is_secure(api: Api) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(api.app, base_url="https://testserver")
    assert "secure" in client.get("/auth/login").headers["set-cookie"].lower()


def test_failed_logins_are_rate_limited(api: Api) -> None:
    for _ in range(5):
        response = api.client.post("/auth/token", json={"username": "user", "password": "bad"})
        assert response.status_code == 401
    response = api.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert response.json()["status"] == 429
    # The client address is over its limit too, whatever the username.
    assert api.client.post("/auth/token", json={"username": "op", "password": PASSWORD}).status_code == 429
    assert api.client.get("/api/v2/test/pools", headers=basic("op")).status_code == 429


def test_health_needs_no_login(api: Api) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "metadatabase": {"status": "healthy"},
        "scheduler": {"status": "unhealthy", "latest_scheduler_heartbeat": None},
        "triggerer": {"status": None, "latest_triggerer_heartbeat": None},
        "dag_processor": {"status": None, "latest_dag_processor_heartbeat": None},
    }
    assert api.client.get("/api/v2/monitor/health").json() == response.json()


def test_openapi_and_docs(api: Api) -> None:
    assert api.client.get("/api/v2/openapi.json").json()["info"]["title"] == "Updraft REST API"
    page = api.client.get("/api/v2/docs")  # no login, like the OpenAPI document
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    # Offline-safe: the page loads nothing from another server.
    assert not re.findall(r"(?:https?:)?//[\w.-]", page.text), "the docs page references another server"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    kinds = {
        "/api/v2/docs/static/swagger-ui-bundle.js": "javascript",
        "/api/v2/docs/static/swagger-ui.css": "css",
    }
    assert set(kinds) <= set(assets), assets
    for url in assets:
        answer = api.client.get(url)
        assert answer.status_code == 200, url
        assert kinds.get(url, "") in answer.headers["content-type"], (url, answer.headers["content-type"])
    assert "'/api/v2/openapi.json'" in page.text or '"/api/v2/openapi.json"' in page.text


def test_record_event(api: Api) -> None:
    with api.engine.begin() as conn:
        user = get_user(conn, "op")
        assert user is not None
        record_event(conn, CurrentUser(user.id, "op"), None, "trigger", dag_id="d", extra={"conf": {"a": 1}})
    with api.engine.connect() as conn:
        row = conn.execute(select(Log.event, Log.owner, Log.dag_id, Log.extra)).one()
    assert tuple(row) == ("trigger", "op", "d", '{"conf": {"a": 1}}')


def test_a_request_holds_one_pooled_connection_at_a_time(api: Api) -> None:
    # Under 20 concurrent requests the pool (5 + 10) ran dry: each request held a connection while
    # its login lookup waited for a second one, until the 30 s pool timeout answered 500.
    sqlite = api.engine.url.get_backend_name() == "sqlite"
    tight = create_engine(
        api.engine.url,
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=2,
        connect_args={"check_same_thread": False} if sqlite else {},
    )
    checkouts: list[int] = []
    event.listen(tight, "checkout", lambda *_: checkouts.append(tight.pool.checkedout()))  # type: ignore[attr-defined]
    try:
        client = TestClient(create_app(tight), raise_server_exceptions=False)
        headers = api.bearer("op")
        assert client.get("/api/v2/dags", headers=headers).json() == {"dags": [], "total_entries": 0}
        # Both the login lookup and the route's query ran on the app's engine, one after the other.
        assert len(checkouts) >= 2 and max(checkouts) == 1
        created = client.post("/api/v2/pools", json={"name": "p", "slots": 1}, headers=headers)
        assert created.status_code == 201, created.text
    finally:
        tight.dispose()
