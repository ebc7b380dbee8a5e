"""Fixtures for the UI tests: the real app on a fresh DB (SQLite and PostgreSQL) with a stored DAG
folder, and a browser-like client logged in through the login form per role.

``ui`` is an :class:`Ui`: ``ui.login("viewer")`` returns a TestClient holding that user's session
cookie, and ``ui.csrf(client)`` the CSRF token of its session (from a page's meta tag).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from updraft.api.app import create_app
from updraft.core.runtime.dag_test import load_and_store, test_dag
from updraft.core.users import create_user

PASSWORD = "correct horse battery"
ROLE_USERS = {"admin": "Admin", "op": "Op", "user": "User", "viewer": "Viewer"}
LOGICAL_DATE = "2024-03-05T06:07:08+00:00"
RUN_ID = f"manual__{LOGICAL_DATE}"

DAGS = """
from datetime import datetime, timezone
from updraft import DAG, Label, Param, TaskGroup, task
from updraft.operators import BashOperator, EmptyOperator, PythonOperator

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def fail(**_):
    raise RuntimeError("boom")


with DAG(
    "ui_demo",
    start_date=START,
    schedule="@daily",
    tags=["alpha", "beta"],
    params={
        "n": Param(1, type="integer", minimum=0, description="How many"),
        "color": Param("red", enum=["red", "green"]),
        "loud": Param(False, type="boolean"),
        "items": Param([1, 2], type="array"),
        "note": Param("hi", type="string", maxLength=5),
    },
    doc_md="# Demo\\n\\n<script>alert(1)</script> **bold**",
    description="a demo dag",
) as demo:
    start = BashOperator(task_id="start", bash_command="echo n={{ params.n }}")
    with TaskGroup("work") as work:
        left = EmptyOperator(task_id="left")
        right = EmptyOperator(task_id="right")
        left >> right

    @task
    def double(x):
        return x * 2

    doubled = double.expand(x=[1, 2, 3])
    end = EmptyOperator(task_id="end")
    start >> Label("then") >> work >> doubled >> end

with DAG("ui_failing", start_date=START, schedule=None, tags=["beta"]) as failing:
    PythonOperator(task_id="boom", python_callable=fail)
"""


class Ui:
    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self.app = create_app(engine)

    def login(self, username: str) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=False)
        form = client.get("/auth/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        answer = client.post(
            "/auth/login",
            data={"csrf_token": token.group(1), "username": username, "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return client

    @staticmethod
    def csrf(client: TestClient) -> str:
        page = client.get("/", headers={"Accept": "text/html"}).text
        found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert found is not None, "no csrf meta tag on the DAG list page"
        return found.group(1)

    def run(
        self, dag_id: str, conf: dict[str, object] | None = None, logical_date: str = LOGICAL_DATE
    ) -> None:
        """Run the DAG once to its end (``dags test``), storing its run in the DB."""
        test_dag(dag_id, logical_date, conf, dags_folder=str(self.folder), include_examples=False)


@pytest.fixture
def ui(engine: Engine, tmp_path: Path) -> Iterator[Ui]:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "ui_dags.py").write_text(textwrap.dedent(DAGS))
    load_and_store(engine, None, str(folder), include_examples=False)
    with engine.begin() as conn:
        for username, role in ROLE_USERS.items():
            create_user(
                conn,
                username=username,
                first_name=username.title(),
                last_name="Tester",
                email=f"{username}@example.com",
                roles=[role],
                password=PASSWORD,
            )
    yield Ui(engine, folder)
