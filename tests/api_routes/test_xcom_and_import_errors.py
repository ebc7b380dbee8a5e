"""``.../xcomEntries`` and ``/importErrors``."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.api_routes.conftest import RUN_ID, TOO_BIG, assert_rejects_field
from updraft.core.dag_store import sync_import_errors
from updraft.core.db.engine import get_engine
from updraft.core.runtime.dag_test import load_and_store, prepare_engine

XCOMS = f"/api/v2/dags/api_simple/dagRuns/{RUN_ID}/taskInstances/first/xcomEntries"


def test_xcom_entries(client: TestClient, ran: Path) -> None:
    body = client.get(XCOMS).json()
    assert body["total_entries"] == 1
    entry = body["xcom_entries"][0]
    assert entry["key"] == "return_value" and entry["run_id"] == RUN_ID and entry["map_index"] == -1
    assert entry["logical_date"].startswith("2024-03-05")
    value = client.get(f"{XCOMS}/return_value").json()
    assert value["value"] == "hello-from-7"
    anywhere = client.get(
        "/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries", params={"xcom_key": "return_value"}
    )
    assert anywhere.json()["total_entries"] >= 1
    missing = client.get(f"{XCOMS}/nope")
    assert missing.status_code == 404 and "'nope'" in missing.json()["detail"]


def test_import_errors(client: TestClient, dag_folder: Path) -> None:
    assert client.get("/api/v2/importErrors").json() == {"import_errors": [], "total_entries": 0}
    (dag_folder / "broken.py").write_text("from updraft import DAG\nimport does_not_exist\n")
    bag, _ = load_and_store(prepare_engine(), None, str(dag_folder), include_examples=False)
    with get_engine().begin() as conn:  # as the DAG processor does
        sync_import_errors(conn, list(bag.import_errors), bag.import_errors)
    body = client.get("/api/v2/importErrors").json()
    assert body["total_entries"] == 1
    error = body["import_errors"][0]
    assert error["filename"].endswith("broken.py") and "does_not_exist" in error["stack_trace"]
    assert client.get(f"/api/v2/importErrors/{error['import_error_id']}").json() == error
    assert client.get("/api/v2/importErrors/999999").status_code == 404


def test_out_of_range_ids_and_map_index_are_422(client: TestClient) -> None:
    # Found by tests/api/test_fuzz.py: these used to reach the database and answer 500.
    assert_rejects_field(client.get(f"/api/v2/importErrors/{2**31}"), "path", "import_error_id")
    assert client.get(f"/api/v2/importErrors/{2**31 - 1}").status_code == 404
    assert_rejects_field(client.get(f"/api/v2/eventLogs/{TOO_BIG}"), "path", "event_log_id")
    assert client.get(f"/api/v2/eventLogs/{TOO_BIG - 1}").status_code == 404
    assert_rejects_field(client.get("/api/v2/eventLogs", params={"map_index": 2**31}), "query", "map_index")
    xcoms = f"/api/v2/dags/api_simple/dagRuns/{RUN_ID}/taskInstances/first/xcomEntries"
    assert_rejects_field(client.get(xcoms, params={"map_index": TOO_BIG}), "query", "map_index")
    assert_rejects_field(client.get(f"{xcoms}/k", params={"map_index": TOO_BIG}), "query", "map_index")
