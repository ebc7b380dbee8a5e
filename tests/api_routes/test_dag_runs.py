"""``/api/v2/dags/{dag_id}/dagRuns``."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.api_routes.conftest import RUN_ID

RUNS = "/api/v2/dags/{}/dagRuns"


def test_list_and_get_runs(client: TestClient, ran: Path) -> None:
    body = client.get(RUNS.format("api_simple")).json()
    assert body["total_entries"] == 1
    run = body["dag_runs"][0]
    assert run["dag_run_id"] == RUN_ID and run["state"] == "success" and run["conf"] == {"n": 7}
    for key in (
        "logical_date",
        "queued_at",
        "data_interval_start",
        "run_after",
        "run_type",
        "triggered_by",
        "note",
    ):
        assert key in run
    everything = client.get(RUNS.format("~")).json()
    assert everything["total_entries"] == 2
    failed = client.get(RUNS.format("~"), params={"state": "failed"}).json()
    assert [r["dag_id"] for r in failed["dag_runs"]] == ["api_failing"]
    later = client.get(RUNS.format("~"), params={"logical_date_gte": "2024-03-06T00:00:00Z"}).json()
    assert later["total_entries"] == 0
    ordered = client.get(RUNS.format("~"), params={"order_by": "-dag_id"}).json()
    assert ordered["dag_runs"][0]["dag_id"] == "api_simple"
    assert client.get(f"{RUNS.format('api_simple')}/{RUN_ID}").json()["dag_run_id"] == RUN_ID
    missing = client.get(f"{RUNS.format('api_simple')}/nope")
    assert missing.status_code == 404 and "'nope'" in missing.json()["detail"]
    assert client.get(RUNS.format("nope")).status_code == 404


def test_trigger(client: TestClient) -> None:
    url = RUNS.format("api_simple")
    response = client.post(url, json={"dag_run_id": "mine", "conf": {"n": 3}, "note": "hello"})
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["dag_run_id"] == "mine" and run["state"] == "queued" and run["note"] == "hello"
    assert run["run_type"] == "manual" and run["conf"] == {"n": 3}
    assert client.post(url, json={"dag_run_id": "mine"}).status_code == 409
    bad = client.post(url, json={"conf": {"n": "many"}})
    assert bad.status_code == 400 and "'n'" in bad.json()["detail"]
    extra = client.post(url, json={"dag_run_id": "x", "execution_date": "2024-01-01"})
    assert extra.status_code == 422 and "execution_date" in extra.text
    assert client.post(RUNS.format("nope"), json={}).status_code == 404
    runs = client.get(url).json()
    assert runs["total_entries"] == 1


def test_viewer_cannot_trigger(viewer: TestClient) -> None:
    assert viewer.post(RUNS.format("api_simple"), json={}).status_code == 403


def test_mark_clear_and_delete(client: TestClient, ran: Path) -> None:
    url = f"{RUNS.format('api_failing')}/{RUN_ID}"
    dry = client.post(f"{url}/clear", json={"dry_run": True}).json()
    assert dry["total_entries"] == 1 and dry["task_instances"][0]["task_id"] == "boom"
    # Full task instances, as they are before the clear (Airflow 3's TaskInstanceResponse).
    assert dry["task_instances"][0] == client.get(f"{url}/taskInstances/boom").json()
    only_new = client.post(f"{url}/clear", json={"dry_run": False, "only_new": True})
    assert only_new.status_code == 400 and only_new.json()["detail"].startswith("only_new:")
    cleared = client.post(
        f"{url}/clear",
        json={"dry_run": False, "only_new": False, "run_on_latest_version": True, "note": "again"},
    ).json()
    assert cleared["state"] == "queued" and cleared["note"] == "again"
    tis = client.get(f"{url}/taskInstances").json()["task_instances"]
    assert tis[0]["state"] is None
    marked = client.patch(url, json={"state": "failed"})
    assert marked.status_code == 200 and marked.json()["state"] == "failed"
    tis = client.get(f"{url}/taskInstances").json()["task_instances"]
    assert tis[0]["state"] == "skipped"
    noted = client.patch(url, params={"update_mask": "note"}, json={"note": "looked at"}).json()
    assert noted["note"] == "looked at" and noted["state"] == "failed"
    assert client.patch(url, json={"state": "running"}).status_code == 422
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
