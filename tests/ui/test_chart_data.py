"""The Graph, Gantt and Durations tabs' data (``/ui/graph``, ``/ui/runs``, ``/ui/run-states``,
``/ui/gantt``, ``/ui/durations``) against the stored demo DAG and real runs."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.ui.conftest import DAGS, RUN_ID, Ui
from updraft.api.ui.dag_cache import latest_dag
from updraft.api.ui.grid_data import grid_rows
from updraft.core.db.models import DagRun, TaskInstance, TaskInstanceHistory
from updraft.core.runtime.dag_test import load_and_store

DEMO_TASKS = ["start", "work.left", "work.right", "double", "end"]


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _tis(ui: Ui, run_id: str = RUN_ID) -> dict[tuple[str, int], Any]:
    with ui.engine.connect() as conn:
        rows = conn.execute(select(TaskInstance.__table__).where(TaskInstance.run_id == run_id)).all()
        return {(ti.task_id, ti.map_index): ti for ti in rows}


def test_graph_has_tasks_in_dependency_order_edges_labels_and_groups(ui: Ui) -> None:
    data = ui.login("viewer").get("/ui/graph/ui_demo").json()
    ids = [n["id"] for n in data["nodes"]]
    assert sorted(ids) == sorted(DEMO_TASKS)
    position = {task_id: i for i, task_id in enumerate(ids)}
    edges = {(e["from"], e["to"]): e["label"] for e in data["edges"]}
    assert edges == {
        ("start", "work.left"): "then",
        ("work.left", "work.right"): None,
        ("work.right", "double"): None,
        ("double", "end"): None,
    }
    assert all(position[a] < position[b] for a, b in edges)
    by_id = {n["id"]: n for n in data["nodes"]}
    assert by_id["work.left"]["group"] == by_id["work.right"]["group"] == "work"
    assert by_id["start"]["group"] is None
    assert by_id["work.left"]["label"] == "left"
    assert by_id["double"]["mapped"] is True and by_id["start"]["mapped"] is False
    assert data["groups"] == [{"id": "work", "label": "work", "parent": None, "tooltip": "", "tasks": 2}]


def test_graph_follows_a_new_stored_version(ui: Ui) -> None:
    client = ui.login("viewer")
    first = client.get("/ui/graph/ui_demo").json()
    assert client.get("/ui/graph/ui_demo").json() == first
    changed = DAGS.replace('end = EmptyOperator(task_id="end")', 'end = EmptyOperator(task_id="finish")')
    (ui.folder / "ui_dags.py").write_text(textwrap.dedent(changed))
    load_and_store(ui.engine, None, str(ui.folder), include_examples=False)
    second = client.get("/ui/graph/ui_demo").json()
    assert second["version"] != first["version"]
    assert "finish" in {n["id"] for n in second["nodes"]} and "end" not in {n["id"] for n in second["nodes"]}


def test_run_states_and_recent_runs(ui: Ui) -> None:
    client = ui.login("viewer")
    assert client.get("/ui/runs/ui_demo").json()["runs"] == []
    ui.run("ui_demo")
    ui.run("ui_demo", logical_date="2024-03-06T00:00:00+00:00")
    runs = client.get("/ui/runs/ui_demo").json()["runs"]
    assert [r["run_id"] for r in runs] == ["manual__2024-03-06T00:00:00+00:00", RUN_ID]  # newest first
    assert client.get("/ui/runs/ui_demo?limit=1").json()["runs"][0]["run_id"] == runs[0]["run_id"]
    states = client.get(f"/ui/run-states/ui_demo/{RUN_ID}").json()
    assert states["run"]["state"] == "success"
    assert states["tasks"]["double"] == {"state": "success", "count": 3}
    assert states["tasks"]["start"] == {"state": "success"}
    assert states["groups"] == {"work": "success"}


def test_run_states_summarize_a_group_and_a_mapped_task(ui: Ui) -> None:
    ui.run("ui_demo")
    with ui.engine.begin() as conn:
        conn.execute(
            update(TaskInstance)
            .where(TaskInstance.task_id.in_(["work.right", "double"]), TaskInstance.map_index <= 0)
            .values(state="failed")
        )
    states = ui.login("viewer").get(f"/ui/run-states/ui_demo/{RUN_ID}").json()
    assert states["groups"]["work"] == "failed"
    assert states["tasks"]["work.left"]["state"] == "success"
    assert states["tasks"]["double"] == {"state": "failed", "count": 3}


def test_gantt_bars_are_the_task_instances_times_in_grid_order(ui: Ui) -> None:
    ui.run("ui_demo")
    data = ui.login("viewer").get(f"/ui/gantt/ui_demo/{RUN_ID}").json()
    with ui.engine.connect() as conn:
        _, dag = latest_dag(conn, "ui_demo")
    assert [r["id"] for r in data["rows"]] == [r["id"] for r in grid_rows(dag)]
    tis = _tis(ui)
    bars = 0
    for row in data["rows"]:
        if row["group"]:
            assert "instances" not in row
            continue
        for bar in row["instances"]:
            ti = tis[(row["id"], bar["map_index"])]
            assert (_when(bar["start"]), _when(bar["end"]), _when(bar["queued"])) == (
                ti.start_date,
                ti.end_date,
                ti.queued_dttm,
            )
            assert bar["state"] == ti.state == "success"
            bars += 1
    assert bars == len(tis) == 7  # four tasks and three map indexes
    double = next(r for r in data["rows"] if r["id"] == "double")
    assert [b["map_index"] for b in double["instances"]] == [0, 1, 2]


def test_gantt_shows_earlier_tries(ui: Ui) -> None:
    """The history holds every try; the current one is the instance, the others are earlier."""
    ui.run("ui_demo")
    start = datetime.fromisoformat("2024-03-05T07:00:00+00:00")
    with ui.engine.begin() as conn:
        conn.execute(update(TaskInstance).where(TaskInstance.task_id == "start").values(try_number=2))
        conn.execute(
            update(TaskInstanceHistory)
            .where(TaskInstanceHistory.task_id == "start", TaskInstanceHistory.try_number == 1)
            .values(state="failed", start_date=start, end_date=start + timedelta(seconds=5))
        )
    data = ui.login("viewer").get(f"/ui/gantt/ui_demo/{RUN_ID}").json()
    row = next(r for r in data["rows"] if r["id"] == "start")
    assert row["instances"][0]["try_number"] == 2
    assert row["instances"][0]["tries"] == [
        {"try_number": 1, "state": "failed", "start": start.isoformat(), "end": "2024-03-05T07:00:05+00:00"}
    ]


def test_durations_per_run_and_per_task(ui: Ui) -> None:
    ui.run("ui_demo")
    second = "2024-03-06T00:00:00+00:00"
    ui.run("ui_demo", logical_date=second)
    client = ui.login("viewer")
    data = client.get("/ui/durations/ui_demo").json()
    with ui.engine.connect() as conn:
        db_runs = {
            r.run_id: r for r in conn.execute(select(DagRun.__table__).where(DagRun.dag_id == "ui_demo"))
        }
    assert [r["run_id"] for r in data["runs"]] == [RUN_ID, f"manual__{second}"]  # oldest first
    for run in data["runs"]:
        db = db_runs[run["run_id"]]
        assert run["duration"] == pytest.approx((db.end_date - db.start_date).total_seconds())
        assert run["running"] is False and run["state"] == "success"
    tasks = {t["id"]: t for t in data["tasks"]}
    assert list(tasks) == ["start", "work.left", "work.right", "double", "end"]
    tis = _tis(ui)
    start = tis[("start", -1)]
    assert tasks["start"]["durations"][0] == pytest.approx(
        (start.end_date - start.start_date).total_seconds()
    )
    mapped = [tis[("double", i)] for i in range(3)]
    span = max(t.end_date for t in mapped) - min(t.start_date for t in mapped)
    assert tasks["double"]["durations"][0] == pytest.approx(span.total_seconds())
    assert tasks["double"]["states"] == ["success", "success"]
    assert len(client.get("/ui/durations/ui_demo?limit=1").json()["runs"]) == 1


def test_an_unfinished_run_counts_up_to_now(ui: Ui) -> None:
    ui.run("ui_demo")
    with ui.engine.begin() as conn:
        conn.execute(update(DagRun).where(DagRun.run_id == RUN_ID).values(state="running", end_date=None))
        conn.execute(
            update(TaskInstance).where(TaskInstance.task_id == "end").values(state="running", end_date=None)
        )
    data = ui.login("viewer").get("/ui/durations/ui_demo").json()
    run = data["runs"][0]
    now, started = _when(data["now"]), _when(run["start_date"])
    assert now is not None and started is not None
    assert run["running"] is True
    assert run["duration"] == pytest.approx((now - started).total_seconds())
    end = next(t for t in data["tasks"] if t["id"] == "end")
    assert end["states"] == ["running"] and end["durations"][0] > 0


@pytest.mark.parametrize(
    "url",
    ["/ui/graph/nope", "/ui/runs/nope", "/ui/durations/nope", f"/ui/run-states/nope/{RUN_ID}",
     f"/ui/gantt/nope/{RUN_ID}"],
)  # fmt: skip
def test_unknown_dag_is_404(ui: Ui, url: str) -> None:
    answer = ui.login("viewer").get(url)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "DAG 'nope' was not found"


@pytest.mark.parametrize("url", ["/ui/run-states/ui_demo/nope", "/ui/gantt/ui_demo/nope"])
def test_unknown_run_is_404(ui: Ui, url: str) -> None:
    answer = ui.login("viewer").get(url)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "DAG 'ui_demo' has no run 'nope'"


def test_viewer_reads_and_anonymous_is_refused(ui: Ui) -> None:
    ui.run("ui_demo")
    urls = ["/ui/graph/ui_demo", "/ui/runs/ui_demo", "/ui/durations/ui_demo",
            f"/ui/run-states/ui_demo/{RUN_ID}", f"/ui/gantt/ui_demo/{RUN_ID}"]  # fmt: skip
    viewer = ui.login("viewer")
    anonymous = ui.login("viewer")
    anonymous.cookies.clear()
    for url in urls:
        assert viewer.get(url).status_code == 200, url
        assert anonymous.get(url).status_code == 401, url


@pytest.mark.parametrize(
    ("tab", "scripts"),
    [
        ("graph", ["graph.js", "ti_panel.js"]),
        ("gantt", ["gantt.js", "ti_panel.js"]),
        ("durations", ["durations.js"]),
    ],
)
def test_tab_pages_load_their_scripts(ui: Ui, tab: str, scripts: list[str]) -> None:
    page = ui.login("viewer").get(f"/dags/ui_demo?tab={tab}&run_id=x", headers={"Accept": "text/html"})
    assert page.status_code == 200
    for script in scripts:
        assert f"/static/{script}?v=" in page.text
    if "ti_panel.js" in scripts:  # the task panel reads the DAG and the viewer's rights from here
        assert 'id="dag-view" data-dag-id="ui_demo" data-run-id="x"' in page.text
        assert 'data-can-edit="false"' in page.text
