"""Browser tests of the web UI: real headless Chromium against a live Updraft (see ``conftest``).

The pages are reached through their DOM contract (ids, ``data-*`` attributes), never through
layout or wording. Runs go through the real scheduler, so every wait on a task state is an
auto-retrying ``expect`` with :data:`RUN_MS`; runs that a scenario only needs as a starting point
are made through the REST API.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.browser.conftest import (
    ADMIN,
    DEMO_DAG,
    DEMO_TASKS,
    RUN_TIMEOUT,
    VIEWER,
    LiveUpdraft,
    expect,
    login,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

RUN_MS = RUN_TIMEOUT * 1000
DAG_PAGE = f"/dags/{DEMO_DAG}"


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cell(page: Page, run_id: str, task_id: str) -> Locator:
    """The grid cell of one task instance."""
    return page.locator(f"#grid [data-run-id={_css_string(run_id)}][data-task-id={_css_string(task_id)}]")


def finished_run(live: LiveUpdraft, greeting: str) -> str:
    """A run of the demo DAG made through the REST API and waited for until it succeeded."""
    run_id = live.trigger(DEMO_DAG, {"greeting": greeting})
    live.wait_for_run(DEMO_DAG, run_id)
    return run_id


def _try_and_state(ti: dict[str, Any]) -> tuple[int, str]:
    return ti["try_number"], ti["state"]


def open_run(page: Page, run_id: str, username: str, password: str) -> None:
    login(page, username, password, next_path=f"{DAG_PAGE}?run_id={quote(run_id, safe='')}")
    expect(page.locator("#grid")).to_be_visible()


def test_admin_logs_in_and_sees_the_dag_list(page: Page, live: LiveUpdraft) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=%2F$"))  # anonymous: sent to the form

    login(page, *ADMIN)

    expect(page).to_have_url(f"{live.base_url}/")
    session = {c["name"]: c for c in page.context.cookies()}["updraft_session"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Lax"
    demo = page.locator(f'#dag-list tr[data-dag-id="{DEMO_DAG}"]')
    other = page.locator('#dag-list tr[data-dag-id="browser_other"]')
    expect(demo).to_be_visible()
    expect(other).to_be_visible()
    expect(demo.locator("a.dag-link")).to_have_attribute("href", DAG_PAGE)
    expect(page.locator(f'input.pause-toggle[data-dag-id="{DEMO_DAG}"]')).to_have_count(1)
    expect(page.locator("#import-errors")).to_be_hidden()  # the DAG folder has no broken file

    page.locator("#dag-search").fill("other")
    expect(demo).to_be_hidden()
    expect(other).to_be_visible()
    page.locator("#dag-search").fill("")
    expect(demo).to_be_visible()

    demo.locator("a.dag-link").click()
    expect(page).to_have_url(f"{live.base_url}{DAG_PAGE}")
    expect(page.locator("#grid")).to_be_visible()  # the grid is the default tab
    for tab in ("grid", "graph", "gantt", "durations", "code", "details"):
        expect(page.locator(f'a[data-tab="{tab}"]')).to_have_count(1)


def test_pause_toggle_in_the_dag_list(page: Page, live: LiveUpdraft) -> None:
    def paused() -> bool:
        return bool(live.client().get("/api/v2/dags/browser_other").json()["is_paused"])

    assert not paused()  # DAGS_ARE_PAUSED_AT_CREATION is off
    login(page, *ADMIN)
    toggle_css = 'input.pause-toggle[data-dag-id="browser_other"]'
    toggle = page.locator(f"#dag-list {toggle_css}")
    switch = page.locator("#dag-list label", has=page.locator(toggle_css))  # the label draws the input

    switch.click()
    live.wait_until("browser_other to be paused", paused, 10)
    expect(toggle).not_to_be_checked()  # checked means active
    switch.click()
    live.wait_until("browser_other to be unpaused", lambda: not paused(), 10)
    expect(toggle).to_be_checked()


def test_trigger_with_a_param_and_watch_the_grid_turn_green(page: Page, live: LiveUpdraft) -> None:
    greeting = f"bonjour {secrets.token_hex(3)}"
    login(page, *ADMIN, next_path=DAG_PAGE)
    page.locator("#trigger-button").click()
    expect(page).to_have_url(f"{live.base_url}{DAG_PAGE}/trigger")
    form = page.locator("form#trigger-form")
    expect(form.locator('input[name="csrf_token"]')).to_have_count(1)
    param = form.locator('[name="param:greeting"]')
    expect(param).to_have_value("hello")  # the Param's default
    param.fill(greeting)
    expect(form.locator("#conf-json")).to_have_count(1)

    page.locator("#trigger-submit").click()

    expect(page).to_have_url(re.compile(re.escape(f"{live.base_url}{DAG_PAGE}?run_id=")))
    run_id = parse_qs(urlsplit(page.url).query)["run_id"][0]
    assert live.run(DEMO_DAG, run_id)["conf"] == {"greeting": greeting, "count": 3}
    page.evaluate("window.__sameDocument = true")  # lost if the page reloads or navigates
    for task_id in DEMO_TASKS:
        expect(cell(page, run_id, task_id)).to_have_attribute("data-state", "success", timeout=RUN_MS)
    assert page.evaluate("window.__sameDocument === true"), "the grid reloaded the page to update"
    assert {
        ti["task_id"]: ti["state"] for ti in live.task_instances(DEMO_DAG, run_id).values()
    } == dict.fromkeys(DEMO_TASKS, "success")


def test_trigger_form_shows_field_errors_and_keeps_the_input(page: Page, live: LiveUpdraft) -> None:
    runs_before = live.run_ids(DEMO_DAG)
    login(page, *ADMIN, next_path=f"{DAG_PAGE}/trigger")
    form = page.locator("form#trigger-form")
    form.locator('[name="param:greeting"]').fill("kept")
    form.locator('[name="param:count"]').fill("0")  # below the Param's minimum of 1
    page.locator("#trigger-submit").click()

    expect(form.locator('.field-error[data-field="count"]')).not_to_be_empty()
    expect(form.locator('.field-error[data-field="greeting"]')).to_be_empty()
    expect(form.locator('[name="param:greeting"]')).to_have_value("kept")
    assert live.run_ids(DEMO_DAG) == runs_before

    form.locator('[name="param:count"]').fill("2")
    advanced = form.locator("details", has=page.locator("#conf-json"))
    advanced.locator("summary").click()  # the JSON conf is under "Advanced"
    form.locator("#conf-json").fill("{not json")
    page.locator("#trigger-submit").click()
    expect(form.locator(".field-error[data-field=conf_json]")).not_to_be_empty()
    expect(form.locator('.field-error[data-field="count"]')).to_be_empty()
    expect(advanced).to_have_attribute("open", "")  # opened again to show its error
    assert live.run_ids(DEMO_DAG) == runs_before

    form.locator("#conf-json").fill('{"extra": [1, 2]}')
    page.locator("#trigger-submit").click()
    expect(page).to_have_url(re.compile(re.escape(f"{live.base_url}{DAG_PAGE}?run_id=")))
    run_id = parse_qs(urlsplit(page.url).query)["run_id"][0]
    assert live.run(DEMO_DAG, run_id)["conf"] == {"greeting": "kept", "count": 2, "extra": [1, 2]}


def test_open_a_task_log(page: Page, live: LiveUpdraft) -> None:
    greeting = f"log check {secrets.token_hex(3)}"
    run_id = finished_run(live, greeting)
    open_run(page, run_id, *ADMIN)

    cell(page, run_id, "greet").click()

    panel = page.locator("#ti-panel")
    expect(panel).to_be_visible()
    expect(panel.locator('[data-try="1"]')).to_have_count(1)
    expect(panel.locator("#ti-log")).to_contain_text(f"greeting: {greeting}")

    cell(page, run_id, "group.shout").click()
    expect(panel.locator("#ti-log")).to_contain_text(f"shouting {greeting.upper()}")


def test_clear_a_task_and_see_it_run_again(page: Page, live: LiveUpdraft) -> None:
    run_id = finished_run(live, "clear me")
    open_run(page, run_id, *ADMIN)
    done = cell(page, run_id, "done")
    expect(done).to_have_attribute("data-state", "success")
    done.click()
    panel = page.locator("#ti-panel")
    expect(panel.locator('[data-try="1"]')).to_have_count(1)

    panel.locator("#ti-clear").click()
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    affected = dialog.locator("#confirm-list li")
    expect(affected).to_have_count(1)  # a leaf task: no downstream task is cleared with it
    expect(affected).to_contain_text("done")
    dialog.locator("#confirm-ok").click()
    expect(dialog).to_be_hidden()

    live.wait_until(
        "the cleared task to run a second time",
        lambda: _try_and_state(live.task_instances(DEMO_DAG, run_id)["done"]) == (2, "success"),
        RUN_TIMEOUT,
    )
    expect(done).to_have_attribute("data-state", "success", timeout=RUN_MS)
    assert live.task_instances(DEMO_DAG, run_id)["greet"]["try_number"] == 1  # upstream left alone
    done.click()
    expect(panel.locator('[data-try="2"]')).to_have_count(1)
    panel.locator('[data-try="2"]').click()
    expect(panel.locator("#ti-log")).to_contain_text("done")


def test_mark_a_task_failed(page: Page, live: LiveUpdraft) -> None:
    run_id = finished_run(live, "mark me")
    open_run(page, run_id, *ADMIN)
    done = cell(page, run_id, "done")
    done.click()
    panel = page.locator("#ti-panel")
    expect(panel.locator("#ti-mark-success")).to_have_count(1)

    panel.locator("#ti-mark-failed").click()
    dialog = page.locator("dialog#confirm")
    expect(dialog.locator("#confirm-list li")).to_have_count(1)
    expect(dialog.locator("#confirm-list li")).to_contain_text("done")
    dialog.locator("#confirm-ok").click()

    expect(done).to_have_attribute("data-state", "failed")
    assert live.task_instances(DEMO_DAG, run_id)["done"]["state"] == "failed"
    assert live.task_instances(DEMO_DAG, run_id)["greet"]["state"] == "success"


def test_viewer_has_no_trigger_button_and_a_trigger_post_is_refused(page: Page, live: LiveUpdraft) -> None:
    login(page, *VIEWER, next_path=DAG_PAGE)
    expect(page.locator('a[data-tab="grid"]')).to_have_count(1)  # the DAG page itself is readable
    expect(page.locator("#trigger-button")).to_have_count(0)
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert csrf
    runs_before = live.run_ids(DEMO_DAG)

    response = page.request.post(
        f"{DAG_PAGE}/trigger",
        form={"csrf_token": csrf, "param:greeting": "from a viewer"},
        max_redirects=0,
    )

    assert response.status == 403, response.text()
    assert "csrf" not in response.text().lower()  # refused for the role, not for the token
    assert live.run_ids(DEMO_DAG) == runs_before
