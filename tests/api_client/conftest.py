"""Fixtures for the client compatibility tests: the real app served by uvicorn on a free local port,
an Admin token, and the official ``apache-airflow-client`` configured against it.

The DAG folder holds a passing DAG (``client_simple``, pushes an XCom), a failing one and a file
with a syntax error (an import error). ``ran`` runs both DAGs once at :data:`LOGICAL_DATE`. The tests run on SQLite only (see
``pytestmark`` in the test module): the route tests already cover both backends.
"""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from airflow_client.client import ApiClient, Configuration
from sqlalchemy import Engine

from updraft.api.app import create_app
from updraft.core.runtime.dag_test import load_and_store, prepare_engine, test_dag
from updraft.core.users import create_user

PASSWORD = "correct horse battery"
LOGICAL_DATE = "2024-03-05T06:07:08+00:00"
RUN_ID = f"manual__{LOGICAL_DATE}"
STARTUP_TIMEOUT = 10.0

DAGS = """
from datetime import datetime, timezone
from updraft import DAG, Param
from updraft.operators import BashOperator, EmptyOperator, PythonOperator

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def push(**_):
    return {"answer": 42}


def fail(**_):
    raise RuntimeError("boom")


with DAG("client_simple", start_date=START, schedule="@daily", tags=["alpha", "beta"],
         params={"n": Param(1, type="integer")}, doc_md="# Simple", description="a simple dag"):
    first = BashOperator(task_id="first", bash_command="echo hello-from-{{ params.n }}")
    second = PythonOperator(task_id="second", python_callable=push)
    first >> second

with DAG("client_failing", start_date=START, schedule=None, tags=["beta"]):
    PythonOperator(task_id="boom", python_callable=fail)
"""


@dataclass
class Server:
    base_url: str
    engine: Engine
    folder: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "client_dags.py").write_text(textwrap.dedent(DAGS))
    (folder / "broken.py").write_text("from updraft import DAG\nthis is not python\n")
    engine = prepare_engine()
    load_and_store(engine, None, str(folder), include_examples=False)
    with engine.begin() as conn:
        create_user(
            conn,
            username="admin",
            first_name="Ada",
            last_name="Admin",
            email="admin@example.com",
            roles=["Admin"],
            password=PASSWORD,
        )
    port = _free_port()
    config = uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="uvicorn-client-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            uv.should_exit = True
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port} within {STARTUP_TIMEOUT}s")
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", engine, folder)
    finally:
        uv.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)


@pytest.fixture
def client(server: Server) -> Iterator[ApiClient]:
    response = httpx.post(f"{server.base_url}/auth/token", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 201, response.text
    configuration = Configuration(host=server.base_url, access_token=response.json()["access_token"])
    with ApiClient(configuration) as api_client:
        yield api_client


@pytest.fixture
def ran(server: Server) -> Server:
    """``client_simple`` (succeeds) and ``client_failing`` (fails) each ran once at LOGICAL_DATE."""
    folder = str(server.folder)
    test_dag("client_simple", LOGICAL_DATE, {"n": 7}, dags_folder=folder, include_examples=False)
    test_dag("client_failing", LOGICAL_DATE, None, dags_folder=folder, include_examples=False)
    return server
