"""Fixtures for the browser tests: a live Updraft in real processes and a headless Chromium.

- ``live`` (one per pytest process, so per xdist worker): a private ``UPDRAFT_HOME`` with a SQLite DB
  migrated by ``updraft db migrate``, the DAG file :data:`DAG_FILE` (DAGs ``browser_demo`` and
  ``browser_other``), the users :data:`ADMIN` and :data:`VIEWER`, and ``updraft scheduler``,
  ``updraft dag-processor`` and ``updraft api-server`` running on a free port. It is ready once
  ``/health`` reports a healthy scheduler and ``browser_demo`` is stored. The processes' output goes
  to files in the home; a failed test gets their tails in its report.
- ``browser``: Debian's ``/usr/bin/chromium`` launched headless by Playwright (no ``playwright
  install``). When Chromium or Playwright is missing the test is skipped, or fails under ``CI=true``.
- ``page``: a page in a fresh browser context (no cookies) whose relative URLs go to ``live``; the
  test fails if the page raised an uncaught JavaScript error.
- :func:`login` signs in through the login form.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

import httpx
import pytest

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the ``browser`` fixture skips (or fails on CI) every test that needs it
    PlaywrightError = Exception  # type: ignore[assignment,misc]
    expect = sync_playwright = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
UPDRAFT = str(Path(sys.executable).with_name("updraft"))
STARTUP_TIMEOUT = 45.0
#: How long a run of ``browser_demo`` may take through the real scheduler, in seconds.
RUN_TIMEOUT = 30.0
ADMIN = ("admin", "admin-browser-pass")
VIEWER = ("viewer", "viewer-browser-pass")
DEMO_DAG = "browser_demo"
#: Task ids of ``browser_demo`` in their order of execution.
DEMO_TASKS = ("greet", "group.shout", "done")

DAG_FILE = """
from datetime import datetime, timezone

from updraft import DAG, Param, TaskGroup
from updraft.operators import BashOperator, PythonOperator

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def shout(params, **_):
    print("shouting " + params["greeting"].upper())


with DAG(
    "browser_demo",
    schedule=None,
    start_date=START,
    params={"greeting": Param("hello", type="string"), "count": Param(3, type="integer", minimum=1)},
    tags=["browser"],
):
    greet = BashOperator(task_id="greet", bash_command="echo 'greeting: {{ params.greeting }}'")
    with TaskGroup("group"):
        loud = PythonOperator(task_id="shout", python_callable=shout)
    done = BashOperator(task_id="done", bash_command="echo done")
    greet >> loud >> done

with DAG("browser_other", schedule=None, start_date=START):
    BashOperator(task_id="only", bash_command="echo other")
"""


def browser_unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it on CI, where the browser must be there."""
    message = f"browser tests need {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


@dataclass
class LiveUpdraft:
    """A running Updraft: its URL, home, processes, and an Admin REST client for setup and checks."""

    base_url: str
    home: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    api: httpx.Client | None = None

    def log_path(self, name: str) -> Path:
        return self.home / f"{name}.log"

    def log_tails(self) -> str:
        parts = []
        for name, proc in self.processes.items():
            status = "running" if proc.poll() is None else f"exited with {proc.returncode}"
            parts.append(f"--- updraft {name} ({status}), last lines of {self.log_path(name)}:")
            parts.append(_tail(self.log_path(name)))
        return "\n".join(parts)

    def fail(self, message: str) -> NoReturn:
        pytest.fail(f"{message}\n{self.log_tails()}", pytrace=False)

    def cli(self, *args: str) -> None:
        done = subprocess.run([UPDRAFT, *args], env=self.env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            pytest.fail(f"updraft {' '.join(args[:2])} exited with {done.returncode}:\n{done.stderr[-3000:]}")

    def start(self, name: str, *args: str) -> None:
        with self.log_path(name).open("wb") as out:
            self.processes[name] = subprocess.Popen(
                [UPDRAFT, *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: teardown reaches its children too
            )

    def wait_until(self, what: str, ready: Callable[[], bool], timeout: float) -> None:
        """Poll ``ready`` until true; fail naming ``what`` on timeout or when a process died."""
        deadline = time.monotonic() + timeout
        while True:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    self.fail(f"updraft {name} exited with {proc.returncode} while waiting for {what}")
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout:.0f}s waiting for {what} at {self.base_url}")
            time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group is the process's own (start_new_session): kill what is left of it
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        if self.api is not None:
            self.api.close()

    # -- REST helpers for setting up and checking scenarios ---------------------------------------

    def client(self) -> httpx.Client:
        assert self.api is not None, "the live server is not started"
        return self.api

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Create a manual run through the REST API; its run_id."""
        response = self.client().post(f"/api/v2/dags/{dag_id}/dagRuns", json={"conf": conf or {}})
        assert response.status_code == 200, response.text
        return str(response.json()["dag_run_id"])

    def run_ids(self, dag_id: str) -> set[str]:
        response = self.client().get(f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100})
        assert response.status_code == 200, response.text
        return {run["dag_run_id"] for run in response.json()["dag_runs"]}

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        response = self.client().get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        """The run's task instances by task_id."""
        response = self.client().get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances")
        assert response.status_code == 200, response.text
        return {ti["task_id"]: ti for ti in response.json()["task_instances"]}

    def wait_for_run(self, dag_id: str, run_id: str, state: str = "success") -> None:
        self.wait_until(
            f"run {run_id} of {dag_id} to reach {state}",
            lambda: self.run(dag_id, run_id)["state"] == state,
            RUN_TIMEOUT,
        )


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveUpdraft]:
    home = tmp_path_factory.mktemp("updraft_home")
    dags = home / "dags"
    dags.mkdir()
    (dags / "browser_demo.py").write_text(textwrap.dedent(DAG_FILE))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UPDRAFT__", "AIRFLOW__"))}
    env.update(
        UPDRAFT_HOME=str(home),
        UPDRAFT__CORE__DAGS_FOLDER=str(dags),
        UPDRAFT__CORE__LOAD_EXAMPLES="False",
        UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        UPDRAFT__SCHEDULER__IDLE_POLL_INTERVAL="0.2",
        UPDRAFT__SCHEDULER__SHUTDOWN_GRACE_PERIOD="2",
        UPDRAFT__DAG_PROCESSOR__REFRESH_INTERVAL="1",
        UPDRAFT__API__PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    server = LiveUpdraft(f"http://127.0.0.1:{port}", home, env)
    server.cli("db", "migrate")
    try:
        server.start("dag-processor", "dag-processor")
        server.start("scheduler", "scheduler", "--skip-dag-processor")
        server.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port))
        for (username, password), role in ((ADMIN, "Admin"), (VIEWER, "Viewer")):  # while they start
            server.cli(
                "users", "create", "-u", username, "-f", username.title(), "-l", "Browser",
                "-e", f"{username}@example.com", "-r", role, "-p", password,
            )  # fmt: skip
        server.api = httpx.Client(base_url=server.base_url, timeout=10)

        def healthy() -> bool:
            response = server.client().get("/health")
            return response.status_code == 200 and response.json()["scheduler"]["status"] == "healthy"

        server.wait_until("/health to report a healthy scheduler", healthy, STARTUP_TIMEOUT)
        token = server.client().post("/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert token.status_code == 201, token.text
        server.client().headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        server.wait_until(
            f"the DAG processor to store {DEMO_DAG}",
            lambda: server.client().get(f"/api/v2/dags/{DEMO_DAG}").status_code == 200,
            STARTUP_TIMEOUT,
        )
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API keeps an event loop marked as running in
    # this thread while it is started, which would break asyncio.run() in later tests of the worker.
    if sync_playwright is None:
        browser_unavailable("the Python package playwright (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        browser_unavailable(f"{CHROMIUM} (apt-get install chromium; `make venv` does it)")
    expect.set_options(timeout=10_000)  # pages poll their data; the default 5 s is tight on a busy CI machine
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            browser_unavailable(f"a Chromium that starts: {CHROMIUM} failed: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, live: LiveUpdraft) -> Iterator[Page]:
    context = browser.new_context(base_url=live.base_url)
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield new_page
    context.close()
    assert not errors, f"uncaught JavaScript errors on the page: {errors}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """A failed browser test reports the tails of the live server's logs."""
    report = yield
    server = getattr(item, "funcargs", {}).get("live")
    if report.failed and isinstance(server, LiveUpdraft):
        report.sections.append(("updraft processes", server.log_tails()))
    return report


def login(page: Page, username: str, password: str, next_path: str = "/") -> None:
    """Sign in through the form at ``/auth/login`` and follow its redirect to ``next_path``."""
    page.goto(f"/auth/login?next={quote(next_path)}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/auth/login"))
