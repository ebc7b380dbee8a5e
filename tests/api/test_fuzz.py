"""Property-based fuzzing of every REST API operation with Schemathesis, from our own OpenAPI document.

For each operation of the app's OpenAPI document, Schemathesis generates path, query and body
inputs (valid and invalid) and sends them to the app in-process (ASGI, no network) as an Admin with
a bearer token. No answer may be a server error (5xx), and each must match the response schema the
operation declares. The run is derandomized, so a failure reproduces; a 5xx found here is fixed in
the route with a 4xx that names the bad field, and pinned by a regression test in ``tests/api_routes``.

SQLite only: input handling is the same on both backends, and this is the slowest API test. Each
operation gets a copy of one prepared DB holding the admin, a stored DAG with one finished run, a
pool, a variable and a connection; generated path parameters are often swapped for those names, so
requests also reach a route's body and not only its 404.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import Engine

from tests.api.conftest import PASSWORD
from updraft.api.app import create_app
from updraft.core.config import conf
from updraft.core.db.engine import dispose_engines, get_engine
from updraft.core.runtime import dag_test
from updraft.core.users import create_user

#: Examples per operation: ~50 operations at this count keep the test under a minute on 2 cores.
MAX_EXAMPLES = 25
LOGICAL_DATE = "2024-03-05T06:07:08+00:00"
#: Names of the objects in the prepared DB, by path parameter.
KNOWN = {
    "dag_id": "fuzz_dag",
    "dag_run_id": f"manual__{LOGICAL_DATE}",
    "task_id": "push",
    "map_index": -1,
    "try_number": 1,
    "xcom_key": "return_value",
    "pool_name": "fuzz_pool",
    "variable_key": "fuzz_var",
    "connection_id": "fuzz_conn",
    "username": "someone",
    "import_error_id": 1,
    "event_log_id": 1,
}
DAG_FILE = """
from datetime import datetime, timezone
from updraft import DAG
from updraft.operators import EmptyOperator, PythonOperator

with DAG("fuzz_dag", start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), schedule="@daily",
         tags=["fuzz"]) as dag:
    PythonOperator(task_id="push", python_callable=lambda: {"n": 1}) >> EmptyOperator(task_id="after")
"""

#: The template DB's secrets are encrypted with this key, which every copy must be read with.
FERNET_KEY = Fernet.generate_key().decode()

# The OpenAPI document does not depend on the DB, so the schema is read once, at collection.
schema = schemathesis.openapi.from_dict(create_app(None).openapi())


@schema.hook
def flatmap_path_parameters(
    context: Any, parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Either the generated path parameters or the same with every known name put in."""
    if not parameters:
        return st.just(parameters)
    known = {name: KNOWN.get(name, value) for name, value in parameters.items()}
    return st.sampled_from([parameters, known])


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A migrated SQLite DB with the admin user and the objects of :data:`KNOWN`."""
    home = tmp_path_factory.mktemp("fuzz_home")
    database = home / "template.db"
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith(("UPDRAFT__", "AIRFLOW__")):
                env.delenv(name)
        env.setenv("UPDRAFT_HOME", str(home))
        env.setenv("UPDRAFT__CORE__FERNET_KEY", FERNET_KEY)  # copies of this DB live in other homes
        env.setenv("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{database}")
        conf.reload()
        dispose_engines()
        try:
            dags = home / "dags"
            dags.mkdir()
            (dags / "fuzz_dag.py").write_text(textwrap.dedent(DAG_FILE))
            engine = dag_test.prepare_engine()
            dag_test.load_and_store(engine, None, str(dags), include_examples=False)
            dag_test.test_dag("fuzz_dag", LOGICAL_DATE, None, dags_folder=str(dags), include_examples=False)
            with engine.begin() as conn:
                for username, role in (("admin", "Admin"), ("someone", "Viewer")):
                    create_user(
                        conn,
                        username=username,
                        first_name=username.title(),
                        last_name="Fuzzer",
                        email=f"{username}@example.com",
                        roles=[role],
                        password=PASSWORD,
                    )
            with TestClient(create_app(engine)) as client:
                token = client.post("/auth/token", json={"username": "admin", "password": PASSWORD})
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                for path, body in (
                    ("pools", {"name": KNOWN["pool_name"], "slots": 3}),
                    ("variables", {"key": KNOWN["variable_key"], "value": "42"}),
                    ("connections", {"connection_id": KNOWN["connection_id"], "conn_type": "http"}),
                ):
                    answer = client.post(f"/api/v2/{path}", json=body, headers=headers)
                    assert answer.status_code == 201, answer.text
        finally:
            dispose_engines()
            conf.reload()
    yield database


@pytest.fixture
def fuzz_app(template_db: Path, updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    database = updraft_home / "fuzz.db"
    shutil.copyfile(template_db, database)
    url = f"sqlite:///{database}"
    monkeypatch.setenv("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", url)
    monkeypatch.setenv("UPDRAFT__CORE__FERNET_KEY", FERNET_KEY)
    engine: Engine = get_engine(url)
    return create_app(engine)


@pytest.fixture
def admin_headers(fuzz_app: FastAPI) -> dict[str, str]:
    with TestClient(fuzz_app) as client:
        answer = client.post("/auth/token", json={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error(
    case: schemathesis.Case, fuzz_app: FastAPI, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(
        app=fuzz_app, headers=admin_headers, checks=[not_a_server_error, response_schema_conformance]
    )
