"""Fixtures for the REST API route tests: a bare app with every router under ``/api/v2``, an admin
caller (auth is overridden), and a DAG folder stored in the metadata DB (SQLite and PostgreSQL)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from updraft.api.routes import ROUTERS
from updraft.api.security.dependencies import CurrentUser, get_current_user
from updraft.api.security.permissions import Role
from updraft.core.runtime.dag_test import load_and_store, prepare_engine, test_dag

LOGICAL_DATE = "2024-03-05T06:07:08+00:00"
RUN_ID = f"manual__{LOGICAL_DATE}"

DAGS = """
from datetime import datetime, timezone
from updraft import DAG, Param
from updraft.operators import BashOperator, EmptyOperator, PythonOperator

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def fail(**_):
    raise RuntimeError("boom")


with DAG("api_simple", start_date=START, schedule="@daily", tags=["alpha", "beta"],
         params={"n": Param(1, type="integer")}, doc_md="# Simple", description="a simple dag") as d1:
    first = BashOperator(task_id="first", bash_command="echo hello-from-{{ params.n }}")
    second = EmptyOperator(task_id="second")
    first >> second

with DAG("api_failing", start_date=START, schedule=None, tags=["beta"]) as d2:
    PythonOperator(task_id="boom", python_callable=fail)

with DAG("other_dag", start_date=START, schedule=None) as d3:
    EmptyOperator(task_id="only")
"""


def make_app(roles: frozenset[Role] = frozenset({Role.ADMIN})) -> FastAPI:
    app = FastAPI()
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v2")
    app.dependency_overrides[get_current_user] = lambda: CurrentUser(1, "admin", roles)
    return app


@pytest.fixture
def dag_folder(db_url: str, tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "api_dags.py").write_text(textwrap.dedent(DAGS))
    engine = prepare_engine()
    load_and_store(engine, None, str(folder), include_examples=False)
    return folder


@pytest.fixture
def client(dag_folder: Path) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


@pytest.fixture
def viewer(dag_folder: Path) -> Iterator[TestClient]:
    with TestClient(make_app(frozenset({Role.VIEWER}))) as test_client:
        yield test_client


@pytest.fixture
def ran(dag_folder: Path) -> Path:
    """``api_simple`` (succeeds) and ``api_failing`` (fails) each ran once at LOGICAL_DATE."""
    test_dag("api_simple", LOGICAL_DATE, {"n": 7}, dags_folder=str(dag_folder), include_examples=False)
    test_dag("api_failing", LOGICAL_DATE, None, dags_folder=str(dag_folder), include_examples=False)
    return dag_folder


#: One past the largest SQL BIGINT: the first integer the database cannot take.
TOO_BIG = 2**63


def assert_rejects_field(response: Any, *loc: str | int) -> None:
    """A 422 whose error names the field at ``loc`` (e.g. ``"query", "offset"``), not a 5xx."""
    assert response.status_code == 422, response.text
    assert [list(error["loc"]) for error in response.json()["detail"]] == [list(loc)], response.text
