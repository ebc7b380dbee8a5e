"""``/api/v2/dags`` and ``/api/v2/dagSources``."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import event

from updraft.core.db.engine import get_engine


def test_list_dags_shape_filters_and_paging(client: TestClient) -> None:
    body = client.get("/api/v2/dags").json()
    assert body["total_entries"] == 3
    assert [d["dag_id"] for d in body["dags"]] == ["api_failing", "api_simple", "other_dag"]
    simple = body["dags"][1]
    assert simple["tags"] == [
        {"name": "alpha", "dag_id": "api_simple", "dag_display_name": "api_simple"},
        {"name": "beta", "dag_id": "api_simple", "dag_display_name": "api_simple"},
    ]
    assert simple["timetable_summary"]
    for key in ("is_paused", "is_stale", "fileloc", "owners", "max_active_runs", "next_dagrun_run_after"):
        assert key in simple
    page = client.get("/api/v2/dags", params={"limit": 1, "offset": 1}).json()
    assert page["total_entries"] == 3 and [d["dag_id"] for d in page["dags"]] == ["api_simple"]
    tagged = client.get("/api/v2/dags", params={"tags": "beta"}).json()
    assert tagged["total_entries"] == 2
    both = client.get(
        "/api/v2/dags", params=[("tags", "alpha"), ("tags", "beta"), ("tags_match_mode", "all")]
    )
    assert [d["dag_id"] for d in both.json()["dags"]] == ["api_simple"]
    assert client.get("/api/v2/dags", params={"dag_id_pattern": "API_"}).json()["total_entries"] == 2
    desc = client.get("/api/v2/dags", params={"order_by": "-dag_id"}).json()
    assert desc["dags"][0]["dag_id"] == "other_dag"
    assert client.get("/api/v2/dags", params={"order_by": "nope"}).status_code == 400


def test_get_dag_details_and_404(client: TestClient) -> None:
    assert client.get("/api/v2/dags/api_simple").json()["dag_display_name"] == "api_simple"
    details = client.get("/api/v2/dags/api_simple/details").json()
    assert details["doc_md"] == "# Simple"
    assert details["params"]["n"]["default"] == 1
    assert [t["task_id"] for t in details["tasks"]] == ["first", "second"]
    assert details["tasks"][0]["downstream_task_ids"] == ["second"]
    missing = client.get("/api/v2/dags/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_pause_and_unpause(client: TestClient) -> None:
    response = client.patch("/api/v2/dags/api_simple", json={"is_paused": True})
    assert response.status_code == 200 and response.json()["is_paused"] is True
    assert client.get("/api/v2/dags", params={"paused": True}).json()["total_entries"] >= 1
    response = client.patch(
        "/api/v2/dags/api_simple", params={"update_mask": "is_paused"}, json={"is_paused": False}
    )
    assert response.json()["is_paused"] is False
    bad = client.patch("/api/v2/dags/api_simple", json={"is_paused": False, "owners": "x"})
    assert bad.status_code == 422 and "owners" in bad.text
    assert client.patch("/api/v2/dags/nope", json={"is_paused": True}).status_code == 404


def test_viewer_cannot_pause(viewer: TestClient) -> None:
    assert viewer.get("/api/v2/dags").status_code == 200
    assert viewer.patch("/api/v2/dags/api_simple", json={"is_paused": True}).status_code == 403


def test_dag_source(client: TestClient) -> None:
    body = client.get("/api/v2/dagSources/api_simple").json()
    assert body["dag_id"] == "api_simple" and "api_failing" in body["content"]


def test_delete_dag(client: TestClient) -> None:
    assert client.delete("/api/v2/dags/other_dag").status_code == 204
    assert client.get("/api/v2/dags/other_dag").status_code == 404


def test_dag_list_queries_do_not_grow_with_the_page(client: TestClient) -> None:
    # One query per batch (count, page, tags), never one per DAG: the UI polls this list.
    statements: list[str] = []
    engine = get_engine()

    def listener(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        one = client.get("/api/v2/dags", params={"limit": 1}).json()
        per_page_of_one = len(statements)
        statements.clear()
        everything = client.get("/api/v2/dags", params={"limit": 100}).json()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(one["dags"]) == 1 and len(everything["dags"]) == everything["total_entries"] == 3
    assert len(statements) == per_page_of_one
    assert [t["name"] for t in everything["dags"][0]["tags"]] == ["beta"]  # api_failing, sorted first


def test_dag_list_is_served_from_cache_until_a_dag_changes(client: TestClient) -> None:
    from updraft.core import dag_admin

    first = client.get("/api/v2/dags", params={"limit": 100})
    again = client.get(
        "/api/v2/dags", params={"limit": 100}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    # A change made outside the API (here: as `updraft dags pause` does) shows at once.
    was_paused = {d["dag_id"]: d["is_paused"] for d in first.json()["dags"]}["other_dag"]
    with get_engine().begin() as conn:
        assert dag_admin.set_paused(conn, ["other_dag"], not was_paused) == ["other_dag"]
    changed = client.get(
        "/api/v2/dags", params={"limit": 100}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200
    assert {d["dag_id"]: d["is_paused"] for d in changed.json()["dags"]}["other_dag"] is not was_paused
