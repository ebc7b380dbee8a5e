"""``/pools``, ``/variables`` and ``/connections``."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api_routes.conftest import TOO_BIG, assert_rejects_field
from updraft.core.db.engine import get_engine
from updraft.core.db.models import Log, Variable


def test_pools_crud(client: TestClient) -> None:
    listed = client.get("/api/v2/pools").json()
    assert [p["name"] for p in listed["pools"]] == ["default_pool"]
    for key in ("slots", "occupied_slots", "running_slots", "queued_slots", "open_slots", "include_deferred"):
        assert key in listed["pools"][0]
    created = client.post("/api/v2/pools", json={"name": "small", "slots": 2, "description": "two"})
    assert created.status_code == 201 and created.json()["open_slots"] == 2
    duplicate = client.post("/api/v2/pools", json={"name": "small", "slots": 3})
    assert duplicate.status_code == 409 and "small" in duplicate.json()["detail"]
    assert client.post("/api/v2/pools", json={"name": "x", "slots": -5}).status_code == 422
    assert client.post("/api/v2/pools", json={"name": "x", "slots": 1, "size": 3}).status_code == 422
    patched = client.patch("/api/v2/pools/small", params={"update_mask": "slots"}, json={"slots": -1})
    assert patched.json()["slots"] == -1 and patched.json()["description"] == "two"
    assert patched.json()["open_slots"] == -1
    assert client.get("/api/v2/pools", params={"pool_name_pattern": "sma"}).json()["total_entries"] == 1
    page = client.get("/api/v2/pools", params={"limit": 1}).json()
    assert page["total_entries"] == 2 and len(page["pools"]) == 1
    protected = client.delete("/api/v2/pools/default_pool")
    assert protected.status_code == 400 and "default_pool" in protected.json()["detail"]
    assert client.delete("/api/v2/pools/small").status_code == 204
    assert client.get("/api/v2/pools/small").status_code == 404
    assert client.delete("/api/v2/pools/small").status_code == 404


def test_variables_crud(client: TestClient) -> None:
    created = client.post("/api/v2/variables", json={"key": "greeting", "value": "hi", "description": "d"})
    assert created.status_code == 201
    assert created.json() == {"key": "greeting", "value": "hi", "description": "d", "is_encrypted": True}
    with get_engine().connect() as conn:
        stored = conn.scalar(select(Variable.val).where(Variable.key == "greeting"))
    assert stored and stored != "hi"  # encrypted at rest, decrypted for the answer
    assert client.post("/api/v2/variables", json={"key": "greeting", "value": "x"}).status_code == 409
    client.post("/api/v2/variables", json={"key": "db_password", "value": "hunter2"})
    assert client.get("/api/v2/variables/db_password").json()["value"] == "***"
    listed = client.get("/api/v2/variables").json()
    assert listed["total_entries"] == 2 and "hunter2" not in str(listed)
    patched = client.patch("/api/v2/variables/greeting", json={"key": "greeting", "value": "hello"})
    assert patched.json()["value"] == "hello" and patched.json()["description"] == "d"
    assert client.patch("/api/v2/variables/nope", json={"key": "nope", "value": "x"}).status_code == 404
    assert client.delete("/api/v2/variables/greeting").status_code == 204
    missing = client.get("/api/v2/variables/greeting")
    assert missing.status_code == 404 and "greeting" in missing.json()["detail"]


def test_connections_never_return_passwords(client: TestClient) -> None:
    body = {
        "connection_id": "my_db",
        "conn_type": "postgres",
        "host": "db.example",
        "login": "me",
        "schema": "public",
        "port": 5432,
        "password": "s3cr3t-pw",
        "extra": '{"sslmode": "require", "api_key": "k3y-value"}',
    }
    created = client.post("/api/v2/connections", json=body)
    assert created.status_code == 201, created.text
    shown = created.json()
    assert shown["connection_id"] == "my_db" and shown["schema"] == "public" and shown["password"] is None
    assert client.post("/api/v2/connections", json=body).status_code == 409
    for response in (
        created,
        client.get("/api/v2/connections"),
        client.get("/api/v2/connections/my_db"),
        client.patch(
            "/api/v2/connections/my_db",
            json={"connection_id": "my_db", "conn_type": "postgres", "port": 6543},
        ),
    ):
        assert "s3cr3t-pw" not in response.text and "k3y-value" not in response.text
    assert client.get("/api/v2/connections/my_db").json()["port"] == 6543
    assert client.get("/api/v2/connections").json()["total_entries"] == 1
    bad = client.post("/api/v2/connections", json={"connection_id": "bad id", "conn_type": "http"})
    assert bad.status_code == 422 and "connection_id" in bad.text
    bad_extra = client.post(
        "/api/v2/connections", json={"connection_id": "c2", "conn_type": "http", "extra": "{"}
    )
    assert bad_extra.status_code == 400 and "extra" in bad_extra.json()["detail"]
    assert client.delete("/api/v2/connections/my_db").status_code == 204
    assert client.get("/api/v2/connections/my_db").status_code == 404


def test_testing_a_connection_is_disabled_by_default(client: TestClient) -> None:
    body = {"connection_id": "t", "conn_type": "http", "host": "localhost", "port": 1}
    refused = client.post("/api/v2/connections/test", json=body)
    assert refused.status_code == 403 and "test_connection" in refused.json()["detail"]


def test_testing_a_connection_when_enabled(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT__CORE__TEST_CONNECTION", "Enabled")
    unknown = client.post("/api/v2/connections/test", json={"connection_id": "t", "conn_type": "nosuchtype"})
    assert unknown.status_code == 200
    assert unknown.json()["status"] is False and "nosuchtype" in unknown.json()["message"]
    # Port 1 on localhost refuses connections: the HTTP hook's test reports the failure.
    body = {"connection_id": "t", "conn_type": "http", "host": "127.0.0.1", "port": 1}
    failed = client.post("/api/v2/connections/test", json=body)
    assert failed.status_code == 200 and failed.json()["status"] is False and failed.json()["message"]


def test_viewer_cannot_manage_config(viewer: TestClient) -> None:
    assert viewer.get("/api/v2/pools").status_code == 200
    assert viewer.post("/api/v2/pools", json={"name": "p", "slots": 1}).status_code == 403
    assert viewer.get("/api/v2/connections").status_code == 403
    assert viewer.post("/api/v2/variables", json={"key": "k", "value": "v"}).status_code == 403


def test_writes_are_audited(client: TestClient, dag_folder: Path) -> None:
    client.post("/api/v2/pools", json={"name": "audited", "slots": 1})
    client.post("/api/v2/dags/api_simple/dagRuns", json={"dag_run_id": "audited_run"})
    with get_engine().connect() as conn:
        events = conn.execute(select(Log.event, Log.owner, Log.dag_id, Log.run_id)).all()
    assert ("post_pool", "admin", None, None) in events
    assert ("trigger_dag_run", "admin", "api_simple", "audited_run") in events


def test_out_of_range_integers_are_422_naming_the_field(client: TestClient) -> None:
    # Found by tests/api/test_fuzz.py: these used to reach the database and answer 500.
    for path in ("pools", "variables", "connections", "importErrors", "eventLogs", "dags"):
        assert_rejects_field(client.get(f"/api/v2/{path}", params={"offset": TOO_BIG}), "query", "offset")
        assert client.get(f"/api/v2/{path}", params={"offset": TOO_BIG - 1}).status_code == 200
    huge_pool = client.post("/api/v2/pools", json={"name": "huge", "slots": 2**31})
    assert_rejects_field(huge_pool, "body", "slots")
    assert client.post("/api/v2/pools", json={"name": "big", "slots": 2**31 - 1}).status_code == 201
    patched = client.patch("/api/v2/pools/big", json={"slots": 2**40}, params={"update_mask": "slots"})
    assert_rejects_field(patched, "body", "slots")
    bad_port = client.post(
        "/api/v2/connections", json={"connection_id": "c", "conn_type": "http", "port": 70000}
    )
    assert_rejects_field(bad_port, "body", "port")
