"""``.../taskInstances``, tries, logs and ``clearTaskInstances``."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.api_routes.conftest import RUN_ID, TOO_BIG, assert_rejects_field

SIMPLE = f"/api/v2/dags/api_simple/dagRuns/{RUN_ID}/taskInstances"
FAILING = f"/api/v2/dags/api_failing/dagRuns/{RUN_ID}/taskInstances"


def test_list_and_get(client: TestClient, ran: Path) -> None:
    body = client.get(SIMPLE).json()
    assert body["total_entries"] == 2
    assert [ti["task_id"] for ti in body["task_instances"]] == ["first", "second"]
    first = client.get(f"{SIMPLE}/first").json()
    assert first["state"] == "success" and first["dag_run_id"] == RUN_ID and first["try_number"] == 1
    assert first["rendered_fields"]["bash_command"] == "echo hello-from-7"
    assert first["logical_date"].startswith("2024-03-05T06:07:08")
    assert client.get(f"{SIMPLE}/first/-1").json()["task_id"] == "first"
    everywhere = client.get("/api/v2/dags/~/dagRuns/~/taskInstances", params={"state": "failed"}).json()
    assert [ti["task_id"] for ti in everywhere["task_instances"]] == ["boom"]
    only = client.get("/api/v2/dags/~/dagRuns/~/taskInstances", params={"task_id": "second"}).json()
    assert only["total_entries"] == 1
    paged = client.get("/api/v2/dags/~/dagRuns/~/taskInstances", params={"limit": 1, "order_by": "-task_id"})
    assert paged.json()["total_entries"] == 3 and paged.json()["task_instances"][0]["task_id"] == "second"
    missing = client.get(f"{SIMPLE}/nope")
    assert missing.status_code == 404 and "'nope'" in missing.json()["detail"]


def test_tries_and_logs(client: TestClient, ran: Path) -> None:
    tries = client.get(f"{FAILING}/boom/tries").json()
    assert tries["total_entries"] == 1 and tries["task_instances"][0]["state"] == "failed"
    log = client.get(f"{FAILING}/boom/logs/1").json()
    assert any("boom" in line for line in log["content"])
    again = client.get(f"{FAILING}/boom/logs/1", params={"token": log["continuation_token"]}).json()
    assert again["content"] == [] and again["continuation_token"] == log["continuation_token"]
    text = client.get(f"{FAILING}/boom/logs/1", headers={"Accept": "text/plain"})
    assert "boom" in text.text
    assert client.get(f"{FAILING}/boom/logs/1", params={"token": "garbage"}).status_code == 400
    assert client.get(f"{FAILING}/boom/logs/5").status_code == 404


def test_patch_state(client: TestClient, ran: Path) -> None:
    response = client.patch(f"{FAILING}/boom", json={"new_state": "success", "note": "fixed by hand"})
    assert response.status_code == 200, response.text
    ti = response.json()["task_instances"][0]
    assert ti["state"] == "success" and ti["note"] == "fixed by hand"
    both = client.patch(f"{SIMPLE}/first", json={"new_state": "failed", "include_downstream": True}).json()
    assert {t["task_id"]: t["state"] for t in both["task_instances"]} == {
        "first": "failed",
        "second": "failed",
    }
    assert client.patch(f"{SIMPLE}/first", json={"new_state": "running"}).status_code == 422


def test_viewer_cannot_patch(viewer: TestClient, ran: Path) -> None:
    assert viewer.patch(f"{FAILING}/boom", json={"new_state": "success"}).status_code == 403


def test_clear_task_instances(client: TestClient, ran: Path) -> None:
    url = "/api/v2/dags/api_simple/clearTaskInstances"
    dry = client.post(
        url, json={"only_failed": False, "task_ids": ["first"], "include_downstream": True}
    ).json()
    assert sorted(t["task_id"] for t in dry["task_instances"]) == ["first", "second"]
    assert client.get(f"{SIMPLE}/first").json()["state"] == "success"
    body = {"dry_run": False, "only_failed": False, "task_ids": ["second"], "dag_run_id": RUN_ID}
    done = client.post(url, json=body).json()
    assert [t["task_id"] for t in done["task_instances"]] == ["second"]
    assert done["task_instances"][0]["state"] is None
    assert client.get(f"/api/v2/dags/api_simple/dagRuns/{RUN_ID}").json()["state"] == "queued"
    assert client.post(url, json={"dag_run_id": "nope"}).status_code == 404
    assert client.post("/api/v2/dags/nope/clearTaskInstances", json={}).status_code == 404


def test_out_of_range_map_index_and_try_number_are_422(client: TestClient, ran: Path) -> None:
    # Found by tests/api/test_fuzz.py: these used to reach the database and answer 500.
    ti = f"/api/v2/dags/api_simple/dagRuns/{RUN_ID}/taskInstances"
    assert_rejects_field(client.get(f"{ti}/first/{2**31}"), "path", "map_index")
    assert client.get(f"{ti}/first/{2**31 - 1}").status_code == 404
    assert_rejects_field(client.get(f"{ti}/first/{TOO_BIG}/tries"), "path", "map_index")
    assert_rejects_field(client.patch(f"{ti}/first/{TOO_BIG}", json={}), "path", "map_index")
    assert_rejects_field(client.get(ti, params={"map_index": [-1, TOO_BIG]}), "query", "map_index", 1)
    assert_rejects_field(client.get(f"{ti}/first/logs/{TOO_BIG}"), "path", "try_number")
    logs = client.get(f"{ti}/first/logs/1", params={"map_index": TOO_BIG})
    assert_rejects_field(logs, "query", "map_index")
