"""End to end: secrets a task reads or registers never reach its log, rendered fields or try history."""

from __future__ import annotations

import json

import pytest

from tests.runs.conftest import RUN_ID, Runs
from updraft.sdk.masking import get_masker

PASSWORD = "Pa55-w0rd-from-env"
OWN_SECRET = "registered-by-the-task"

MASKED_DAG = """
import json
import logging
from updraft import mask_secret
from updraft.hooks import BaseHook

with DAG("masked", start_date=START, schedule=None) as dag:
    def leak(templated, **_):
        conn = BaseHook.get_connection("secret_db")
        print(f"the password is {conn.password}")
        print(json.dumps({"conn": conn.to_dict()}))
        logging.getLogger("user").info("extra: %r", conn.extra_dejson)
        mask_secret("registered-by-the-task")
        logging.getLogger("user").warning("own value: %s", "registered-by-the-task")
        raise RuntimeError(f"cannot log in with {conn.password}")

    PythonOperator(
        task_id="leak",
        python_callable=leak,
        op_kwargs={"templated": "password={{ conn.secret_db.password }}"},
    )
"""


def test_connection_password_and_registered_values_are_masked_everywhere(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = json.dumps({"api_token": "extra-token-value", "region": "eu-west-1"})
    monkeypatch.setenv(
        "UPDRAFT_CONN_SECRET_DB",
        json.dumps(
            {"conn_type": "postgres", "host": "db", "login": "me", "password": PASSWORD, "extra": extra}
        ),
    )
    runs.run("masked", MASKED_DAG)
    assert runs.states("masked") == {"leak": "failed"}

    log = (
        runs.log_folder / "dag_id=masked" / f"run_id={RUN_ID}" / "task_id=leak" / "attempt=1.log"
    ).read_text()
    assert PASSWORD not in log and OWN_SECRET not in log and "extra-token-value" not in log
    assert "the password is ***" in log
    assert '"password": "***"' in log  # inside printed JSON
    assert "'api_token': '***', 'region': 'eu-west-1'" in log  # a sensitive extra field, in a repr
    assert "own value: ***" in log
    assert "RuntimeError: cannot log in with ***" in log and "Traceback (most recent call last)" in log

    rendered = runs.tis("masked")["leak"].rendered_fields
    assert rendered["op_kwargs"] == {"templated": "password=***"}
    assert PASSWORD not in json.dumps(rendered)

    (history,) = runs.history("masked", "leak")
    assert history["error"] == "RuntimeError: cannot log in with ***"


VARIABLE_DAG = """
from updraft.sdk.secrets import get_variable

with DAG("variables", start_date=START, schedule=None) as dag:
    def read(**_):
        print("key:", get_variable("api_key"), "region:", get_variable("region"))

    PythonOperator(task_id="read", python_callable=read)
"""


def test_a_variable_named_like_a_secret_is_masked_once_read(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPDRAFT_VAR_API_KEY", "variable-api-key-value")
    monkeypatch.setenv("UPDRAFT_VAR_REGION", "eu-central-1")
    runs.run("variables", VARIABLE_DAG)
    assert runs.states("variables") == {"read": "success"}
    log = (
        runs.log_folder / "dag_id=variables" / f"run_id={RUN_ID}" / "task_id=read" / "attempt=1.log"
    ).read_text()
    assert "key: *** region: eu-central-1" in log
    assert get_masker().redact("variable-api-key-value eu-central-1") == "*** eu-central-1"
