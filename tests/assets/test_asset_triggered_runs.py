"""Asset-triggered runs end to end: a producer task's success records an asset event, the real
scheduler creates the consumer's run, and the consumer's tasks see the triggering events.
Runs on SQLite and PostgreSQL (the ``env`` fixture's ``db_url``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.scheduler.conftest import Env, wait_for
from updraft.core.db.engine import get_engine
from updraft.core.db.models import AssetDagRunQueue, AssetEvent, DagModel, DagRunAssetEvent

PRODUCERS = """
from datetime import datetime
from updraft import DAG, Asset
from updraft.operators import PythonOperator

def fail():
    raise RuntimeError("no data today")

def publish(outlet_events, ti):
    outlet_events[Asset("s3://bucket/{name}")].extra["rows"] = 3
    outlet_events[Asset("s3://bucket/{name}")].extra["by"] = ti.task_id

with DAG("produce_{name}", start_date=datetime(2024, 1, 1), schedule=None):
    PythonOperator(task_id="publish", python_callable={callable}, outlets=[Asset("s3://bucket/{name}")])
"""

CONSUMER = """
import json
from datetime import datetime
from pathlib import Path
from updraft import DAG, Asset, Dataset
from updraft.operators import PythonOperator

a, b = Asset("s3://bucket/a"), Dataset("s3://bucket/b")

def record(triggering_asset_events, triggering_dataset_events, inlet_events, dag_run, logical_date):
    seen = {{
        asset.uri: [
            {{"source": [e.source_dag_id, e.source_task_id, e.source_map_index], "extra": e.extra}}
            for e in events
        ]
        for asset, events in triggering_asset_events.items()
    }}
    out = Path({out!r}) / (dag_run.run_id.replace(":", "_") + ".json")
    out.write_text(json.dumps({{
        "events": seen,
        "by_uri": sorted(triggering_dataset_events),
        "run_type": dag_run.run_type,
        "logical_date": str(logical_date),
        "inlet": [len(inlet_events[a]), inlet_events["s3://bucket/a"][-1].extra if inlet_events[a] else None],
    }}))

with DAG("{dag_id}", start_date=datetime(2024, 1, 1), schedule={schedule}):
    PythonOperator(task_id="record", python_callable=record, inlets=[a])
"""


def write_dags(env: Env, out: Path, consumers: dict[str, str], failing: tuple[str, ...] = ()) -> None:
    for name in ("a", "b"):
        callable_ = "fail" if name in failing else "publish"
        env.write_dag(f"produce_{name}.py", PRODUCERS.format(name=name, callable=callable_))
    for dag_id, schedule in consumers.items():
        env.write_dag(f"{dag_id}.py", CONSUMER.format(dag_id=dag_id, schedule=schedule, out=str(out)))
    env.store()
    for dag_id in ["produce_a", "produce_b", *consumers]:
        env.unpause(dag_id)


def finished_runs(env: Env, dag_id: str) -> list[Any]:
    return [r for r in env.runs(dag_id) if r.state in ("success", "failed")]


def wait_runs(env: Env, dag_id: str, count: int) -> list[Any]:
    return wait_for(
        lambda: len(runs := finished_runs(env, dag_id)) >= count and runs,
        60,
        what=f"{count} run(s) of {dag_id}",
    )


def count(model: Any, *conditions: Any) -> int:
    with get_engine().connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


def test_producer_success_triggers_one_consumer_run_with_its_events(env: Env, scheduler, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    write_dags(env, out, {"consume": "[a]"})
    process = scheduler()
    run_id = env.trigger("produce_a")
    assert env.wait_run("produce_a", run_id) == "success", process.output()
    (run,) = wait_runs(env, "consume", 1)
    assert run.state == "success", process.output()
    assert run.run_type == "asset_triggered" and run.logical_date is None and run.triggered_by == "asset"
    seen = json.loads(next(out.iterdir()).read_text())
    assert seen["events"] == {
        "s3://bucket/a": [{"source": ["produce_a", "publish", -1], "extra": {"rows": 3, "by": "publish"}}]
    }
    assert seen["by_uri"] == ["s3://bucket/a"] and seen["run_type"] == "asset_triggered"
    assert seen["logical_date"] == "None"
    assert seen["inlet"] == [1, {"rows": 3, "by": "publish"}]
    assert count(AssetEvent) == 1 and count(DagRunAssetEvent, DagRunAssetEvent.dag_run_id == run.id) == 1
    assert count(AssetDagRunQueue) == 0  # consumed
    time.sleep(1.0)  # a few more passes create nothing more
    assert len(env.runs("consume")) == 1
    process.stop()


def test_failed_producer_records_no_event_and_triggers_nothing(env: Env, scheduler, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    write_dags(env, out, {"consume": "[a]"}, failing=("a",))
    process = scheduler()
    run_id = env.trigger("produce_a")
    assert env.wait_run("produce_a", run_id) == "failed", process.output()
    time.sleep(1.0)
    assert count(AssetEvent) == 0 and count(AssetDagRunQueue) == 0
    assert env.runs("consume") == []
    process.stop()


def test_and_needs_both_assets_or_needs_either(env: Env, scheduler, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    write_dags(env, out, {"both": "a & b", "either": "a | b", "listed": "[a, b]"})
    process = scheduler()
    first = env.trigger("produce_a")
    assert env.wait_run("produce_a", first) == "success", process.output()
    wait_runs(env, "either", 1)
    time.sleep(0.6)
    assert env.runs("both") == [] and env.runs("listed") == []
    # the event of a waits for b, queued for both AND consumers
    assert count(AssetDagRunQueue, AssetDagRunQueue.target_dag_id.in_(["both", "listed"])) == 2
    second = env.trigger("produce_b")
    assert env.wait_run("produce_b", second) == "success", process.output()
    (both,) = wait_runs(env, "both", 1)
    (listed,) = wait_runs(env, "listed", 1)
    wait_runs(env, "either", 2)
    assert both.state == listed.state == "success", process.output()
    assert count(DagRunAssetEvent, DagRunAssetEvent.dag_run_id == both.id) == 2  # a's and b's events
    time.sleep(0.6)
    assert [len(env.runs(d)) for d in ("both", "either", "listed")] == [1, 2, 1]
    process.stop()


def test_paused_consumer_keeps_its_queue_until_unpaused(env: Env, scheduler, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    write_dags(env, out, {"consume": "[a]"})
    with env.engine.begin() as conn:
        conn.execute(update(DagModel).where(DagModel.dag_id == "consume").values(is_paused=True))
    process = scheduler()
    for _ in range(2):
        run_id = env.trigger("produce_a")
        assert env.wait_run("produce_a", run_id) == "success", process.output()
    time.sleep(0.6)
    assert env.runs("consume") == [] and count(AssetDagRunQueue) == 2
    env.unpause("consume")  # seen at the next idle poll
    (run,) = wait_runs(env, "consume", 1)
    assert count(DagRunAssetEvent, DagRunAssetEvent.dag_run_id == run.id) == 2  # one run consumes both
    assert count(AssetDagRunQueue) == 0
    process.stop()


def test_two_schedulers_consume_each_event_exactly_once(env: Env, scheduler, tmp_path: Path, db_url: str):
    """PostgreSQL: two schedulers (each with its own home and wake-up socket) share the queue;
    the row locks let exactly one of them turn each queued event into a run."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several schedulers on one database need PostgreSQL")
    out = tmp_path / "out"
    out.mkdir()
    write_dags(env, out, {"consume": "[a]"})
    other_home = tmp_path / "other_home"
    other_home.mkdir()
    processes = [scheduler(), scheduler(updraft_home=str(other_home))]
    run_ids = [env.trigger("produce_a") for _ in range(6)]
    for run_id in run_ids:
        assert env.wait_run("produce_a", run_id) == "success", [p.output() for p in processes]
    wait_for(lambda: count(AssetDagRunQueue) == 0, 30, what="the queue to drain")
    wait_for(
        lambda: all(r.state == "success" for r in env.runs("consume")), 60, what="the consumer runs to finish"
    )
    assert count(AssetEvent) == 6
    with get_engine().connect() as conn:
        links = conn.execute(select(DagRunAssetEvent.event_id)).scalars().all()
    assert sorted(links) == sorted(set(links)) and len(links) == 6  # each event consumed once
    assert 1 <= len(env.runs("consume")) <= 6
    for process in processes:
        process.stop()
