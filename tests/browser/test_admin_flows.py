"""Browser tests of the admin pages against a live Updraft (fixtures in ``conftest``).

Each flow goes through the page's forms and buttons and checks the result through the REST API
(``live.client()``), so a passing test means the page really wrote what it showed. Names carry a
random suffix: the live server is shared by every test of the session.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import ADMIN, VIEWER, LiveUpdraft, expect, login

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser


def _row(page: Page, key: str) -> Locator:
    return page.locator(f'#list tbody tr[data-key="{key}"]')


def test_admin_adds_edits_and_deletes_a_connection(page: Page, live: LiveUpdraft) -> None:
    conn_id = f"db_{secrets.token_hex(3)}"
    login(page, *ADMIN, next_path="/connections")
    dialog = page.locator("#edit-dialog")

    page.locator("#add-button").click()
    dialog.locator("[name=connection_id]").fill(conn_id)
    dialog.locator("[name=conn_type]").fill("postgres")
    dialog.locator("[name=host]").fill("db-a.example.com")
    dialog.locator("[name=port]").fill("5432")
    dialog.locator("[name=password]").fill("s3cret")
    dialog.locator("[name=extra]").fill('{"sslmode": "require"')  # not JSON: the API says so
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator('[data-error-for="extra"]')).to_contain_text("not valid JSON")
    expect(dialog).to_be_visible()
    dialog.locator("[name=extra]").fill('{"sslmode": "require"}')
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    expect(_row(page, conn_id)).to_contain_text("db-a.example.com")

    # A second connection with the same id is refused (409), shown in the form.
    page.locator("#add-button").click()
    dialog.locator("[name=connection_id]").fill(conn_id)
    dialog.locator("[name=conn_type]").fill("http")
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".form-error")).to_contain_text("already exists")
    dialog.locator("button.cancel").click()

    # Editing the host with the password field left empty keeps the stored password.
    _row(page, conn_id).locator("button[data-action=edit]").click()
    expect(dialog.locator("[name=connection_id]")).to_have_value(conn_id)
    expect(dialog.locator("[name=password]")).to_have_value("")
    dialog.locator("[name=host]").fill("db-b.example.com")
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".form-error")).to_be_empty()  # a refused save would be shown here
    expect(dialog).to_be_hidden()
    expect(_row(page, conn_id)).to_contain_text("db-b.example.com")
    events = live.client().get("/api/v2/eventLogs", params={"event": "patch_connection", "order_by": "-when"})
    assert conn_id in events.json()["event_logs"][0]["extra"]
    assert '"fields": ["host"]' in events.json()["event_logs"][0]["extra"]

    _row(page, conn_id).locator("button[data-action=delete]").click()
    expect(page.locator("#confirm-list")).to_contain_text(conn_id)
    page.locator("#confirm-ok").click()
    expect(_row(page, conn_id)).to_have_count(0)
    assert live.client().get(f"/api/v2/connections/{conn_id}").status_code == 404


def test_pools_are_read_only_for_a_viewer_and_editable_for_an_admin(page: Page, live: LiveUpdraft) -> None:
    name = f"pool_{secrets.token_hex(3)}"
    login(page, *VIEWER, next_path="/pools")
    expect(_row(page, "default_pool")).to_be_visible()
    expect(page.locator("#add-button")).to_have_count(0)
    expect(page.locator("#list button[data-action]")).to_have_count(0)

    page.context.clear_cookies()
    login(page, *ADMIN, next_path="/pools")
    dialog = page.locator("#edit-dialog")
    page.locator("#add-button").click()
    dialog.locator("[name=name]").fill(name)
    dialog.locator("[name=slots]").fill("3")
    dialog.locator("button[type=submit]").click()
    expect(_row(page, name).locator("td").nth(1)).to_have_text("3")

    _row(page, name).locator("button[data-action=edit]").click()
    dialog.locator("[name=slots]").fill("7")
    dialog.locator("[name=include_deferred]").check()
    dialog.locator("button[type=submit]").click()
    expect(_row(page, name).locator("td").nth(1)).to_have_text("7")
    stored = live.client().get(f"/api/v2/pools/{name}").json()
    assert (stored["slots"], stored["include_deferred"]) == (7, True)

    # The API refuses to delete the default pool; the page shows its answer and keeps the row.
    _row(page, "default_pool").locator("button[data-action=delete]").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#toast")).to_contain_text("default_pool cannot be deleted")
    expect(_row(page, "default_pool")).to_be_visible()

    _row(page, name).locator("button[data-action=delete]").click()
    page.locator("#confirm-ok").click()
    expect(_row(page, name)).to_have_count(0)
    assert live.client().get(f"/api/v2/pools/{name}").status_code == 404
