"""Browser tests of the web UI: real headless Chromium against a live Updraft (see ``conftest``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import ADMIN, LiveUpdraft, expect, login

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_admin_logs_in_and_lands_on_the_dag_list(page: Page, live: LiveUpdraft) -> None:
    login(page, *ADMIN)
    expect(page).to_have_url(re.compile(r"^" + re.escape(live.base_url) + r"/$"))
    session = {c["name"]: c for c in page.context.cookies()}["updraft_session"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Lax"
