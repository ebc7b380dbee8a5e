"""The DAG pages and their data: login redirect, DAG list, DAG page tabs, trigger form, grid and
task-instance panel data, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import insert, select

from tests.ui.conftest import RUN_ID, Ui
from updraft.api.ui.grid_data import summarize
from updraft.core.db.models import DagRun, ParseImportError

HTML = {"Accept": "text/html"}


def test_anonymous_visitor_is_sent_to_login_and_back(ui: Ui) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(ui.app)
    answer = client.get("/dags/ui_demo?tab=code", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/auth/login?next=%2Fdags%2Fui_demo%3Ftab%3Dcode"
    assert client.get("/ui/dags").status_code == 401  # data routes answer JSON, not redirects


def test_dag_list_page_has_the_table_and_a_csrf_token(ui: Ui) -> None:
    page = ui.login("viewer").get("/", headers=HTML)
    assert page.status_code == 200
    assert 'id="dag-list"' in page.text and 'name="csrf-token"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN


def test_dag_list_data_filters_and_counts(ui: Ui) -> None:
    client = ui.login("viewer")
    ui.run("ui_failing")
    data = client.get("/ui/dags").json()
    by_id = {d["dag_id"]: d for d in data["dags"]}
    assert set(by_id) == {"ui_demo", "ui_failing"} and data["total_entries"] == 2
    assert by_id["ui_demo"]["tags"] == ["alpha", "beta"]
    assert by_id["ui_demo"]["schedule"] == "0 0 * * *" and by_id["ui_demo"]["schedule_description"]
    assert by_id["ui_failing"]["recent_runs"] == {"failed": 1}
    assert by_id["ui_failing"]["last_run"]["state"] == "failed"
    assert by_id["ui_demo"]["last_run"] is None
    assert data["tags"] == ["alpha", "beta"]
    assert [d["dag_id"] for d in client.get("/ui/dags?search=FAIL").json()["dags"]] == ["ui_failing"]
    assert [d["dag_id"] for d in client.get("/ui/dags?tags=alpha").json()["dags"]] == ["ui_demo"]
    assert [d["dag_id"] for d in client.get("/ui/dags?status=failed").json()["dags"]] == ["ui_failing"]
    assert client.get("/ui/dags?status=bogus").status_code == 422


def test_dag_list_data_shows_import_errors(ui: Ui) -> None:
    with ui.engine.begin() as conn:  # as the DAG processor stores a file that failed to import
        conn.execute(
            insert(ParseImportError).values(
                filename=str(ui.folder / "broken.py"), stacktrace="ModuleNotFoundError: does_not_exist"
            )
        )
    errors = ui.login("viewer").get("/ui/dags").json()["import_errors"]
    assert [e["filename"].rsplit("/", 1)[-1] for e in errors] == ["broken.py"]
    assert "does_not_exist" in errors[0]["stacktrace"]


def test_dag_page_shows_trigger_only_to_those_who_may(ui: Ui) -> None:
    user_page = ui.login("user").get("/dags/ui_demo", headers=HTML).text
    viewer_page = ui.login("viewer").get("/dags/ui_demo", headers=HTML).text
    assert 'id="trigger-button"' in user_page
    assert 'id="trigger-button"' not in viewer_page
    for tab in ("grid", "graph", "gantt", "durations", "code", "details"):
        assert f'data-tab="{tab}"' in viewer_page


def test_dag_docs_are_rendered_as_safe_markdown(ui: Ui) -> None:
    page = ui.login("viewer").get("/dags/ui_demo", headers=HTML).text
    assert "<strong>bold</strong>" in page and "<h1>Demo</h1>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_dag_and_tab_get_an_html_404(ui: Ui) -> None:
    client = ui.login("viewer")
    answer = client.get("/dags/nope", headers=HTML)
    assert answer.status_code == 404 and "DAG &#39;nope&#39; was not found" in answer.text
    assert client.get("/dags/ui_demo?tab=nope", headers=HTML).status_code == 404
    assert client.get("/dags/nope").json()["status"] == 404  # JSON for a non-browser


def test_code_and_details_tabs(ui: Ui) -> None:
    client = ui.login("viewer")
    code = client.get("/dags/ui_demo?tab=code", headers=HTML).text
    assert 'id="dag-code"' in code and "ui_failing" in code and 'class="k"' in code  # highlighted
    details = client.get("/dags/ui_demo?tab=details", headers=HTML).text
    assert 'id="dag-params"' in details and "How many" in details and "a demo dag" in details


def _csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _form(csrf: str, **fields: str) -> dict[str, str]:
    base = {
        "csrf_token": csrf,
        "param:n": "1",
        "param:color": "red",
        "param:items": "[1, 2]",
        "param:note": "hi",
        "conf_json": "",
    }
    return base | fields


def test_trigger_form_is_built_from_the_params(ui: Ui) -> None:
    page = ui.login("user").get("/dags/ui_demo/trigger", headers=HTML).text
    assert re.search(r'<input type="number"[^>]*name="param:n" value="1"', page)
    assert re.search(r'<select[^>]*name="param:color"', page) and "<option selected>red</option>" in page
    assert re.search(r'<input type="checkbox"[^>]*name="param:loud" value="true"\s*>', page)
    assert re.search(r'<textarea[^>]*name="param:items"', page)
    assert "How many" in page and 'id="conf-json"' in page


def test_trigger_creates_the_run_with_the_form_values(ui: Ui) -> None:
    client = ui.login("user")
    csrf = _csrf_of(client.get("/dags/ui_demo/trigger", headers=HTML).text)
    form = _form(
        csrf, **{"param:n": "3", "param:color": "green", "param:loud": "true", "conf_json": '{"extra": 1}'}
    )
    answer = client.post("/dags/ui_demo/trigger", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    assert location.path == "/dags/ui_demo"
    run_id = parse_qs(location.query)["run_id"][0]
    with ui.engine.connect() as conn:
        run = conn.execute(
            select(DagRun.conf, DagRun.state, DagRun.triggered_by).where(DagRun.run_id == run_id)
        ).one()
    assert run.conf == {"n": 3, "color": "green", "loud": True, "items": [1, 2], "note": "hi", "extra": 1}
    assert run.state == "queued" and run.triggered_by == "ui"


def test_trigger_errors_are_shown_next_to_their_fields(ui: Ui) -> None:
    client = ui.login("user")
    csrf = _csrf_of(client.get("/dags/ui_demo/trigger", headers=HTML).text)
    form = _form(
        csrf, **{"param:n": "-1", "param:note": "far too long", "param:items": "[1,", "conf_json": "[]"}
    )
    answer = client.post("/dags/ui_demo/trigger", data=form)
    assert answer.status_code == 400
    errors = dict(re.findall(r'<div class="field-error" data-field="([^"]+)">([^<]*)</div>', answer.text))
    assert "minimum of 0" in errors["n"]
    assert "too long" in errors["note"]
    assert "not valid JSON" in errors["items"]
    assert "JSON object" in errors["conf_json"]
    assert errors["color"] == ""
    assert 'value="far too long"' in answer.text  # what was typed is kept
    with ui.engine.connect() as conn:
        assert conn.execute(select(DagRun.id).where(DagRun.dag_id == "ui_demo")).first() is None


def test_trigger_is_refused_to_a_viewer_and_without_csrf(ui: Ui) -> None:
    viewer = ui.login("viewer")
    csrf = ui.csrf(viewer)
    answer = viewer.post("/dags/ui_demo/trigger", data=_form(csrf), headers=HTML)
    assert answer.status_code == 403 and "runs.trigger" in answer.text
    assert viewer.get("/dags/ui_demo/trigger", headers=HTML).status_code == 403
    user = ui.login("user")
    assert user.post("/dags/ui_demo/trigger", data=_form("forged")).status_code == 403
    with ui.engine.connect() as conn:
        assert conn.execute(select(DagRun.id).where(DagRun.dag_id == "ui_demo")).first() is None


def test_grid_data_rows_follow_groups_and_dependencies(ui: Ui) -> None:
    ui.run("ui_demo")
    client = ui.login("viewer")
    answer = client.get("/ui/grid/ui_demo")
    data = answer.json()
    assert [r["run_id"] for r in data["runs"]] == [RUN_ID]
    rows = [(r["id"], r["depth"], r["group"]) for r in data["rows"]]
    assert rows == [
        ("start", 0, False),
        ("work", 0, True),
        ("work.left", 1, False),
        ("work.right", 1, False),
        ("double", 0, False),
        ("end", 0, False),
    ]
    by_id = {r["id"]: r for r in data["rows"]}
    assert all(r["states"] == ["success"] for r in data["rows"])
    assert by_id["double"]["mapped"] and by_id["double"]["counts"] == [3]
    unchanged = client.get("/ui/grid/ui_demo", headers={"If-None-Match": answer.headers["etag"]})
    assert unchanged.status_code == 304
    assert client.get("/ui/grid/nope").status_code == 404


def test_grid_summary_puts_what_needs_attention_first() -> None:
    assert summarize(["success", "failed", "running"]) == "failed"
    assert summarize(["success", "running", None]) == "running"
    assert summarize(["success", None]) is None
    assert summarize(["skipped", "success"]) == "success"
    assert summarize([]) is None


def test_task_instance_panel_data(ui: Ui) -> None:
    ui.run("ui_demo", conf={"n": 5})
    client = ui.login("viewer")
    start = client.get(f"/ui/ti/ui_demo/{RUN_ID}/start").json()
    assert start["instance"]["state"] == "success" and start["instance"]["try_number"] == 1
    assert [t["try_number"] for t in start["tries"]] == [1]
    assert start["rendered_fields"]["bash_command"] == "echo n=5"
    assert start["task"]["downstream"] == ["work.left"] and start["map_indexes"] == []
    double = client.get(f"/ui/ti/ui_demo/{RUN_ID}/double?map_index=1").json()
    assert [m["map_index"] for m in double["map_indexes"]] == [0, 1, 2]
    assert double["xcoms"] == [
        {"key": "return_value", "value": 4, "timestamp": double["xcoms"][0]["timestamp"]}
    ]
    assert client.get(f"/ui/ti/ui_demo/{RUN_ID}/double?map_index=7").status_code == 404
    assert client.get("/ui/ti/ui_demo/no-such-run/start").status_code == 404


def test_mark_preview_lists_what_marking_would_change(ui: Ui) -> None:
    ui.run("ui_demo")
    client = ui.login("viewer")
    url = f"/ui/mark-preview/ui_demo/{RUN_ID}/work.left"
    assert client.get(url, params={"state": "success"}).json()["task_instances"] == []  # all succeeded
    picked = client.get(url, params={"state": "failed", "downstream": "true"}).json()["task_instances"]
    assert [(t["task_id"], t["map_index"]) for t in picked] == [
        ("double", 0),
        ("double", 1),
        ("double", 2),
        ("end", -1),
        ("work.left", -1),
        ("work.right", -1),
    ]
    assert client.get(url, params={"state": "running"}).status_code == 422


def test_grid_data_shows_a_change_made_after_it_was_served(ui: Ui) -> None:
    ui.run("ui_demo")
    client = ui.login("user")
    first = client.get("/ui/grid/ui_demo")
    assert {r["id"]: r["states"] for r in first.json()["rows"]}["end"] == ["success"]
    marked = client.patch(
        f"/api/v2/dags/ui_demo/dagRuns/{RUN_ID}/taskInstances/end",
        json={"new_state": "failed"},
        headers={"X-CSRF-Token": ui.csrf(client)},
    )
    assert marked.status_code == 200, marked.text
    second = client.get("/ui/grid/ui_demo", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]
    assert {r["id"]: r["states"] for r in second.json()["rows"]}["end"] == ["failed"]
