"""HttpOperator run in a DAG end to end: templated fields, response_check, response_filter, XCom."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.providers.http.fake_service import FakeService, Reply
from updraft.core.db.engine import get_engine
from updraft.core.db.models import XCom
from updraft.core.runtime import dag_test
from updraft.providers.http import HttpOperator, SimpleHttpOperator
from updraft.sdk import serde

DAG_FILE = """
from datetime import datetime, timezone
from updraft import DAG
from updraft.providers.http import HttpOperator

with DAG("http_dag", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
    HttpOperator(
        task_id="call",
        http_conn_id="svc",
        method="POST",
        endpoint="runs/{{ ds }}",
        data='{"run": "{{ run_id }}"}',
        headers={"X-Dag": "{{ dag.dag_id }}", "Content-Type": "application/json"},
        response_check=lambda response: response.json()["status"] == "{check}",
        response_filter=lambda response, ds: [response.json()["count"], ds],
        retries=0,
    )
"""


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeService() as running:
        yield running


@pytest.fixture
def dag_folder(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: FakeService) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setenv("UPDRAFT_CONN_SVC", f"http://127.0.0.1:{service.port}")
    return folder


def run_dag(folder: Path, check: str) -> tuple[str, dict[str, object]]:
    (folder / "http_dag.py").write_text(textwrap.dedent(DAG_FILE).replace("{check}", check))
    result = dag_test.test_dag("http_dag", "2024-03-05T06:07:08+00:00", dags_folder=str(folder))
    [record] = result.records
    with get_engine().connect() as conn:
        rows = conn.execute(select(XCom.key, XCom.value).where(XCom.dag_id == "http_dag")).all()
    return str(record.state) + "|" + (record.error or ""), {k: serde.decode(v) for k, v in rows}


def test_operator_renders_sends_checks_and_pushes_filtered_result(
    dag_folder: Path, service: FakeService
) -> None:
    service.script(Reply(200, {"status": "done", "count": 3}))
    outcome, xcoms = run_dag(dag_folder, "done")
    assert outcome.startswith("success"), outcome
    [got] = service.received
    assert got.method == "POST" and got.path == "/runs/2024-03-05"
    assert got.json == {"run": "manual__2024-03-05T06:07:08+00:00"}
    assert got.headers["x-dag"] == "http_dag"
    assert xcoms["return_value"] == [3, "2024-03-05"]


def test_response_check_false_fails_the_task(dag_folder: Path, service: FakeService) -> None:
    service.script(Reply(200, {"status": "pending", "count": 0}))
    outcome, xcoms = run_dag(dag_folder, "done")
    assert outcome.startswith("failed"), outcome
    assert "response_check returned False" in outcome and "'call'" in outcome
    assert "return_value" not in xcoms


def test_default_xcom_is_the_response_text_and_the_alias() -> None:
    assert SimpleHttpOperator is HttpOperator
    op = HttpOperator(task_id="t", endpoint="x")
    assert op.method == "POST" and op.http_conn_id == "http_default"
    assert set(op.template_fields) >= {"endpoint", "data", "headers"}
