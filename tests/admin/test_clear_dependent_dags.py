"""Clearing across DAGs through ExternalTaskMarker (Airflow's "recursive" clear)."""

from __future__ import annotations

import pytest

from tests.admin.conftest import Admin, at
from updraft.core.clear import ClearError, clear_task_instances
from updraft.operators.sensors import ExternalTaskMarker

MARKED_DAGS = """
from datetime import datetime, timedelta, timezone
from updraft import DAG
from updraft.operators import EmptyOperator
from updraft.operators.sensors import ExternalTaskMarker, ExternalTaskSensor

START = datetime(2024, 1, 1, tzinfo=timezone.utc)

with DAG("parent", start_date=START, schedule="@daily") as parent:
    first = EmptyOperator(task_id="first")
    mark = ExternalTaskMarker(
        task_id="mark_child", external_dag_id="child", external_task_id="wait", recursion_depth=RECURSION
    )
    first >> mark

with DAG("child", start_date=START, schedule="@daily") as child:
    wait = ExternalTaskSensor(task_id="wait", external_dag_id="parent", external_task_id="mark_child")
    before = EmptyOperator(task_id="unrelated")
    work = EmptyOperator(task_id="work")
    mark = ExternalTaskMarker(
        task_id="mark_grandchild",
        external_dag_id="grandchild",
        external_task_id="start",
        logical_date="{{ data_interval_start.isoformat() }}",
        recursion_depth=RECURSION,
    )
    wait >> work >> mark

with DAG("grandchild", start_date=START, schedule="@daily") as grandchild:
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end")
    start >> end
"""


def _setup(admin: Admin, recursion: int = 10) -> dict[str, str]:
    admin.store(MARKED_DAGS.replace("RECURSION", str(recursion)))
    return {dag_id: admin.make_run(dag_id, at(3)) for dag_id in ("parent", "child", "grandchild")}


def _clear(admin: Admin, **kwargs) -> list[tuple[str, str]]:
    with admin.engine.begin() as conn:
        cleared = clear_task_instances(conn, "parent", task_regex="^first$", downstream=True, **kwargs)
    return [(ti.dag_id, ti.task_id) for ti in cleared]


def test_recursive_clear_follows_markers_into_other_dags(admin: Admin):
    runs = _setup(admin)
    picked = _clear(admin, dependent_dags=True, dry_run=True)
    assert picked == [
        ("parent", "first"),
        ("parent", "mark_child"),
        ("child", "mark_grandchild"),
        ("child", "wait"),
        ("child", "work"),
        ("grandchild", "end"),
        ("grandchild", "start"),
    ]
    assert admin.states("child", runs["child"])["wait"] == "success"  # a dry run changes nothing
    _clear(admin, dependent_dags=True)
    assert admin.states("child", runs["child"]) == {
        "wait": None,
        "work": None,
        "mark_grandchild": None,
        "unrelated": "success",  # not downstream of the marked task
    }
    assert admin.states("grandchild", runs["grandchild"]) == {"start": None, "end": None}
    assert admin.run("child", runs["child"])["state"] == "queued"


def test_without_dependent_dags_only_the_dag_itself_is_cleared(admin: Admin):
    _setup(admin)
    assert _clear(admin, dry_run=True) == [("parent", "first"), ("parent", "mark_child")]


def test_a_marker_chain_deeper_than_its_recursion_depth_is_refused(admin: Admin):
    runs = _setup(admin, recursion=1)
    with pytest.raises(
        ClearError, match="maximum recursion depth 1 reached at ExternalTaskMarker 'mark_grandchild'"
    ):
        _clear(admin, dependent_dags=True)
    assert admin.states("parent", runs["parent"])["first"] == "success"  # the caller rolls back


def test_a_marker_whose_run_does_not_exist_selects_nothing_there(admin: Admin):
    admin.store(MARKED_DAGS.replace("RECURSION", "10"))
    admin.make_run("parent", at(3))
    admin.make_run("child", at(4))  # another date: not the marked run
    assert _clear(admin, dependent_dags=True, dry_run=True) == [("parent", "first"), ("parent", "mark_child")]


def test_marker_arguments_are_checked():
    with pytest.raises(ValueError, match="recursion_depth must be a positive integer"):
        ExternalTaskMarker(task_id="m", external_dag_id="d", external_task_id="t", recursion_depth=0)
    with pytest.raises(TypeError, match="logical_date must be a datetime or a string"):
        ExternalTaskMarker(task_id="m", external_dag_id="d", external_task_id="t", logical_date=5)  # type: ignore[arg-type]


def test_the_clear_api_follows_markers_with_include_downstream_dags(admin: Admin):
    from fastapi.testclient import TestClient

    from tests.api_routes.conftest import make_app

    runs = _setup(admin)
    body = {"dag_run_id": runs["parent"], "task_ids": ["mark_child"], "only_failed": False}
    with TestClient(make_app()) as client:
        alone = client.post("/api/v2/dags/parent/clearTaskInstances", json=body).json()
        assert [(t["dag_id"], t["task_id"]) for t in alone["task_instances"]] == [("parent", "mark_child")]
        answer = client.post(
            "/api/v2/dags/parent/clearTaskInstances",
            json=body | {"include_downstream_dags": True, "dry_run": False},
        )
    assert answer.status_code == 200, answer.text
    cleared = [(t["dag_id"], t["task_id"], t["state"]) for t in answer.json()["task_instances"]]
    assert cleared == [
        ("parent", "mark_child", None),
        ("child", "mark_grandchild", None),
        ("child", "wait", None),
        ("child", "work", None),
        ("grandchild", "end", None),
        ("grandchild", "start", None),
    ]
    assert admin.states("child", runs["child"])["unrelated"] == "success"
