"""``/api/v2/assets``: listing and reading assets and their events, and posting an event that queues
and triggers the DAGs scheduled on the asset, exactly as a producing task's success does.

Each test runs on SQLite and PostgreSQL (``db_url``). The DAGs' asset references are kept by the
scheduler's own step (``RunCreator.refresh_next_runs``) and asset-triggered runs are created by the
scheduler's ``create_asset_triggered_runs``; the last test runs the real scheduler process.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update

from tests.api_routes.conftest import assert_rejects_field, make_app
from tests.scheduler.conftest import Env, env, scheduler, wait_for
from updraft.api.security.permissions import Role
from updraft.core.db.asset_events import record_asset_events
from updraft.core.db.engine import get_engine
from updraft.core.db.models import (
    AssetDagRunQueue,
    AssetModel,
    DagModel,
    DagRun,
    DagRunAssetEvent,
    DagScheduleAssetReference,
    Log,
)
from updraft.core.db.types import utcnow
from updraft.core.runtime.dag_test import load_and_store, prepare_engine
from updraft.core.scheduler.assets import create_asset_triggered_runs
from updraft.core.scheduler.dag_cache import DagCache
from updraft.core.scheduler.run_creation import RunCreator
from updraft.core.scheduler.wakeup import WakeupListener
from updraft.sdk.assets import Asset

__all__ = ["env", "scheduler"]  # the real-scheduler fixtures, used by the last test

ASSETS = "/api/v2/assets"
EVENTS = "/api/v2/assets/events"
DAGS = """
from datetime import datetime
from updraft import DAG, Asset
from updraft.operators import EmptyOperator

a = Asset("s3://bucket/a")
b = Asset(name="orders", uri="s3://bucket/b", extra={"api_token": "hunter2", "owner": "sales"})
c = Asset("file:///data/c.csv")
START = datetime(2024, 1, 1)

with DAG("on_a", start_date=START, schedule=[a]):
    EmptyOperator(task_id="t")

with DAG("on_a_and_b", start_date=START, schedule=a & b):
    EmptyOperator(task_id="t")

with DAG("on_c", start_date=START, schedule=[c]):
    EmptyOperator(task_id="t")

with DAG("produce_a", start_date=START, schedule=None):
    EmptyOperator(task_id="publish", outlets=[a])
"""


@pytest.fixture
def ids(db_url: str, tmp_path: Path) -> dict[str, int]:
    """The DAGs stored, unpaused and their asset references kept; the asset row ids by name."""
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "asset_dags.py").write_text(textwrap.dedent(DAGS))
    engine = prepare_engine()
    bag, _ = load_and_store(engine, None, str(folder), include_examples=False)
    assert not bag.import_errors, bag.import_errors
    with engine.begin() as conn:
        RunCreator(DagCache()).refresh_next_runs(conn)  # the scheduler's step for new DAG versions
        conn.execute(update(DagModel).values(is_paused=False))
        return {row.name: int(row.id) for row in conn.execute(select(AssetModel.id, AssetModel.name))}


@pytest.fixture
def client(ids: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


def as_role(role: Role) -> TestClient:
    return TestClient(make_app(frozenset({role})))


def queued() -> list[tuple[str, int]]:
    with get_engine().connect() as conn:
        rows = conn.execute(select(AssetDagRunQueue.target_dag_id, AssetDagRunQueue.asset_id))
        return sorted((row.target_dag_id, int(row.asset_id)) for row in rows)


def scheduler_pass() -> list[tuple[str, str]]:
    """The scheduler's asset step: a run for each DAG whose condition holds over its queue."""
    with get_engine().begin() as conn:
        return create_asset_triggered_runs(conn, DagCache(), utcnow())


def statements_of(call: Any) -> int:
    """How many SQL statements ``call()`` sends to the database."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_list_assets_with_filters_paging_and_the_dags_scheduled_on_them(
    client: TestClient, ids: dict[str, int]
) -> None:
    body = client.get(ASSETS).json()
    assert body["total_entries"] == 3
    by_name = {item["name"]: item for item in body["assets"]}
    assert sorted(by_name) == ["file:///data/c.csv", "orders", "s3://bucket/a"]
    a = by_name["s3://bucket/a"]
    assert a["id"] == ids["s3://bucket/a"] and a["uri"] == "s3://bucket/a" and a["group"] == "asset"
    assert [d["dag_id"] for d in a["scheduled_dags"]] == ["on_a", "on_a_and_b"]
    assert a["updated_at"] == a["created_at"] and a["last_asset_event"] == {"id": None, "timestamp": None}
    # Not stored by Updraft, so left out rather than made up.
    assert "producing_tasks" not in a and "consuming_tasks" not in a
    orders = by_name["orders"]
    assert orders["uri"] == "s3://bucket/b" and orders["extra"] == {"api_token": "***", "owner": "sales"}
    assert [d["dag_id"] for d in orders["scheduled_dags"]] == ["on_a_and_b"]

    names = [item["name"] for item in client.get(ASSETS, params={"order_by": "-name"}).json()["assets"]]
    assert names == ["s3://bucket/a", "orders", "file:///data/c.csv"]
    page = client.get(ASSETS, params={"order_by": "name", "limit": 1, "offset": 1}).json()
    assert page["total_entries"] == 3 and [item["name"] for item in page["assets"]] == ["orders"]
    by_uri = client.get(ASSETS, params={"uri_pattern": "S3://"}).json()
    assert by_uri["total_entries"] == 2 and {i["name"] for i in by_uri["assets"]} == {
        "orders",
        "s3://bucket/a",
    }
    by_name_pattern = client.get(ASSETS, params={"name_pattern": "ORD"}).json()
    assert [item["id"] for item in by_name_pattern["assets"]] == [ids["orders"]]
    assert client.get(ASSETS, params={"name_pattern": "nothing"}).json() == {"assets": [], "total_entries": 0}
    bad_order = client.get(ASSETS, params={"order_by": "colour"})
    assert bad_order.status_code == 400 and "'colour'" in bad_order.json()["detail"]
    assert_rejects_field(client.get(ASSETS, params={"limit": -1}), "query", "limit")


def test_a_page_of_assets_costs_the_same_queries_whatever_its_size(client: TestClient) -> None:
    one = statements_of(lambda: client.get(ASSETS, params={"limit": 1}).raise_for_status())
    three = statements_of(lambda: client.get(ASSETS, params={"limit": 3}).raise_for_status())
    assert one == three


def test_get_one_asset_and_a_404_naming_it(client: TestClient, ids: dict[str, int]) -> None:
    asset = client.get(f"{ASSETS}/{ids['file:///data/c.csv']}").json()
    assert asset["name"] == "file:///data/c.csv" and [d["dag_id"] for d in asset["scheduled_dags"]] == [
        "on_c"
    ]
    missing = client.get(f"{ASSETS}/987654")
    assert missing.status_code == 404 and "987654" in missing.json()["detail"]
    assert_rejects_field(client.get(f"{ASSETS}/not-a-number"), "path", "asset_id")


def test_posted_event_is_queued_for_the_dags_on_the_asset_and_triggers_their_runs(
    client: TestClient, ids: dict[str, int]
) -> None:
    wakeup = WakeupListener()  # where a running scheduler listens
    try:
        response = client.post(EVENTS, json={"asset_id": ids["s3://bucket/a"], "extra": {"rows": 5}})
        assert response.status_code == 200, response.text
        assert wakeup.drain() == (False, set()) and wakeup.assets_queued  # "assets queued", as a task sends
    finally:
        wakeup.close()
    posted = response.json()
    assert posted["asset_id"] == ids["s3://bucket/a"] and posted["uri"] == "s3://bucket/a"
    assert posted["extra"] == {"rows": 5, "from_rest_api": True} and posted["created_dagruns"] == []
    assert posted["source_dag_id"] is posted["source_task_id"] is posted["source_run_id"] is None
    assert posted["source_map_index"] == -1
    a = ids["s3://bucket/a"]
    assert queued() == [("on_a", a), ("on_a_and_b", a)]
    with get_engine().connect() as conn:
        audit = conn.execute(
            select(Log.event, Log.owner, Log.extra).where(Log.event == "create_asset_event")
        ).one()
    assert audit.owner == "admin" and f'"event_id": {posted["id"]}' in audit.extra

    # The scheduler's pass: on_a's condition holds; on_a_and_b still waits for b.
    assert [dag_id for dag_id, _ in scheduler_pass()] == ["on_a"]
    assert queued() == [("on_a_and_b", a)]
    with get_engine().connect() as conn:
        run = conn.execute(select(DagRun).where(DagRun.dag_id == "on_a")).one()
        linked = conn.scalars(
            select(DagRunAssetEvent.event_id).where(DagRunAssetEvent.dag_run_id == run.id)
        ).all()
    assert run.run_type == "asset_triggered" and run.triggered_by == "asset" and run.logical_date is None
    assert linked == [posted["id"]]
    queue = client.get("/api/v2/dags/on_a_and_b/assets/queuedEvents").json()
    assert queue["total_entries"] == 1 and queue["queued_events"][0]["asset_id"] == a
    assert queue["queued_events"][0]["dag_id"] == "on_a_and_b"
    assert client.get("/api/v2/dags/on_a/assets/queuedEvents").json() == {
        "queued_events": [],
        "total_entries": 0,
    }
    assert client.get("/api/v2/dags/nope/assets/queuedEvents").status_code == 404

    # The event now lists the run it triggered, and the asset its newest event.
    (listed,) = client.get(EVENTS, params={"asset_id": a}).json()["asset_events"]
    assert [(r["dag_id"], r["run_id"], r["state"]) for r in listed["created_dagruns"]] == [
        ("on_a", run.run_id, "queued")
    ]
    assert client.get(f"{ASSETS}/{a}").json()["last_asset_event"]["id"] == posted["id"]

    # b's event completes a & b: on_a_and_b runs on both events.
    assert client.post(EVENTS, json={"asset_id": ids["orders"]}).status_code == 200
    assert [dag_id for dag_id, _ in scheduler_pass()] == ["on_a_and_b"]
    assert queued() == []
    with get_engine().connect() as conn:
        both = conn.scalar(
            select(func.count())
            .select_from(DagRunAssetEvent)
            .join(DagRun, DagRun.id == DagRunAssetEvent.dag_run_id)
            .where(DagRun.dag_id == "on_a_and_b")
        )
    assert both == 2


def test_post_rejects_bad_bodies_and_unknown_assets(client: TestClient, ids: dict[str, int]) -> None:
    missing = client.post(EVENTS, json={"asset_id": 424242})
    assert missing.status_code == 404 and "424242" in missing.json()["detail"]
    assert_rejects_field(client.post(EVENTS, json={}), "body", "asset_id")
    assert_rejects_field(client.post(EVENTS, json={"asset_id": "a"}), "body", "asset_id")
    assert_rejects_field(client.post(EVENTS, json={"asset_id": 2**63}), "body", "asset_id")
    assert_rejects_field(client.post(EVENTS, json={"asset_id": 1, "extra": [1]}), "body", "extra")
    unknown = client.post(EVENTS, json={"asset_id": ids["orders"], "partition": "x"})
    assert unknown.status_code == 422 and "partition" in unknown.text
    assert queued() == [] and client.get(EVENTS).json()["total_entries"] == 0


def test_event_listing_filters_and_pages(client: TestClient, ids: dict[str, int]) -> None:
    a, c = Asset("s3://bucket/a"), Asset("file:///data/c.csv")
    with get_engine().begin() as conn:  # what a producing task's success records
        record_asset_events(
            conn, [a, c], dag_id="produce_a", run_id="r1", task_id="publish", map_index=2, timestamp=utcnow()
        )
    assert queued() == sorted([("on_a", ids[a.name]), ("on_a_and_b", ids[a.name]), ("on_c", ids[c.name])])
    client.post(EVENTS, json={"asset_id": ids[a.name], "extra": {"n": 1}}).raise_for_status()

    body = client.get(EVENTS).json()
    assert body["total_entries"] == 3
    assert [e["source_dag_id"] for e in body["asset_events"]] == [
        "produce_a",
        "produce_a",
        None,
    ]  # oldest first
    task_made = body["asset_events"][0]
    assert task_made["source_task_id"] == "publish" and task_made["source_run_id"] == "r1"
    assert task_made["source_map_index"] == 2 and task_made["extra"] == {}

    def total(**params: Any) -> int:
        answer = client.get(EVENTS, params=params)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["total_entries"])

    assert total(asset_id=ids[a.name]) == 2 and total(asset_id=ids[c.name]) == 1
    assert total(source_dag_id="produce_a") == 2 and total(source_dag_id="other") == 0
    assert total(source_task_id="publish", source_run_id="r1") == 2 and total(source_run_id="r2") == 0
    assert total(source_map_index=2) == 2 and total(name_pattern="data/c") == 1
    assert total(timestamp_gte="2000-01-01T00:00:00Z", timestamp_lte="2999-01-01T00:00:00Z") == 3
    assert (
        total(timestamp_gte="2999-01-01T00:00:00Z") == 0 and total(timestamp_lte="2000-01-01T00:00:00Z") == 0
    )
    newest = client.get(EVENTS, params={"order_by": "-id", "limit": 1}).json()
    assert newest["total_entries"] == 3 and newest["asset_events"][0]["extra"] == {
        "n": 1,
        "from_rest_api": True,
    }
    second = client.get(EVENTS, params={"order_by": "id", "limit": 1, "offset": 1}).json()["asset_events"]
    assert [e["asset_id"] for e in second] == [ids[c.name]]
    assert_rejects_field(client.get(EVENTS, params={"timestamp_gte": "soon"}), "query", "timestamp_gte")


def test_a_viewer_reads_but_only_a_role_that_triggers_runs_posts(ids: dict[str, int]) -> None:
    body = {"asset_id": ids["s3://bucket/a"]}
    with as_role(Role.VIEWER) as viewer:
        assert viewer.get(ASSETS).status_code == 200 and viewer.get(EVENTS).status_code == 200
        assert viewer.get("/api/v2/dags/on_a/assets/queuedEvents").status_code == 200
        refused = viewer.post(EVENTS, json=body)
        assert refused.status_code == 403 and "runs.trigger" in refused.json()["detail"]
    assert queued() == []
    with as_role(Role.USER) as user:
        assert user.post(EVENTS, json=body).status_code == 200
    assert len(queued()) == 2


def test_the_real_scheduler_runs_the_consumer_of_a_posted_event(env: Env, scheduler: Any) -> None:
    env.write_dag("asset_dags.py", DAGS)
    env.store()
    env.unpause("on_a")
    process = scheduler()
    wait_for(lambda: _scheduled_on("on_a"), 30, what="the scheduler to record what on_a is scheduled on")
    with TestClient(make_app()) as client:
        answer = client.post(EVENTS, json={"asset_id": _scheduled_on("on_a")})
    assert answer.status_code == 200, answer.text
    (run,) = wait_for(
        lambda: [r for r in env.runs("on_a") if r.state == "success"], 60, what="on_a's asset-triggered run"
    )
    assert run.run_type == "asset_triggered", process.output()
    process.stop()


def _scheduled_on(dag_id: str) -> int | None:
    """The id of the asset the scheduler recorded ``dag_id`` as scheduled on, if it did yet."""
    ref = DagScheduleAssetReference
    with get_engine().connect() as conn:
        return conn.scalar(select(ref.asset_id).where(ref.dag_id == dag_id))
