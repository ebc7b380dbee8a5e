"""``AIRFLOW_CONN_<ID>`` and ``AIRFLOW_VAR_<KEY>`` work as ``UPDRAFT_CONN_``/``UPDRAFT_VAR_`` do;
when both forms are set, the ``UPDRAFT_`` one wins."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from tests.runs.conftest import Runs, runs
from updraft import Variable
from updraft.core import config_objects as objects
from updraft.core.secrets_chain import install_secrets_chain
from updraft.sdk import secrets
from updraft.sdk.base_hook import BaseHook
from updraft.sdk.variable import VariableNotFound

__all__ = ["runs"]


def test_airflow_conn_uri_and_json_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_MY_PG", "postgres://user:p%40ss@db.example.com:5433/sales?sslmode=require"
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_MY_API", json.dumps({"conn_type": "http", "host": "api.example.com", "extra": {"a": 1}})
    )
    pg = BaseHook.get_connection("my_pg")
    assert (pg.conn_type, pg.host, pg.port, pg.schema, pg.login, pg.password) == (
        "postgres",
        "db.example.com",
        5433,
        "sales",
        "user",
        "p@ss",
    )
    assert pg.extra_dejson == {"sslmode": "require"}
    api = secrets.get_connection("my_api")
    assert (api.conn_type, api.host, api.extra_dejson) == ("http", "api.example.com", {"a": 1})


def test_conn_id_is_upper_cased_for_the_env_var_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MIXED_CASE_ID", "http://h")
    assert secrets.get_connection("Mixed_Case_Id").host == "h"


def test_updraft_conn_wins_over_airflow_conn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BOTH", "http://from-airflow-var")
    assert secrets.get_connection("both").host == "from-airflow-var"
    monkeypatch.setenv("UPDRAFT_CONN_BOTH", "http://from-updraft-var")
    assert secrets.get_connection("both").host == "from-updraft-var"


def test_airflow_var_plain_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_ENVIRONMENT", "staging")
    monkeypatch.setenv("AIRFLOW_VAR_LIMITS", '{"rows": 10, "tables": ["a", "b"]}')
    assert Variable.get("environment") == "staging"
    assert Variable.get("ENVIRONMENT") == "staging"
    assert Variable.get("limits", deserialize_json=True) == {"rows": 10, "tables": ["a", "b"]}
    with pytest.raises(VariableNotFound, match="'missing' does not exist"):
        Variable.get("missing")
    assert Variable.get("missing", default_var="d") == "d"


def test_updraft_var_wins_over_airflow_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_REGION", "eu")
    assert Variable.get("region") == "eu"
    monkeypatch.setenv("UPDRAFT_VAR_REGION", "us")
    assert Variable.get("region") == "us"


def test_airflow_env_vars_beat_the_metadata_db(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with engine.begin() as conn:
        objects.create_connection(conn, "shared", {"conn_type": "http", "host": "from-db"})
        objects.create_variable(conn, "shared", "db", None)
    install_secrets_chain(engine)
    assert secrets.get_connection("shared").host == "from-db"
    assert Variable.get("shared") == "db"
    monkeypatch.setenv("AIRFLOW_CONN_SHARED", "http://from-env")
    monkeypatch.setenv("AIRFLOW_VAR_SHARED", "env")
    assert secrets.get_connection("shared").host == "from-env"
    assert Variable.get("shared") == "env"


def test_a_task_reads_airflow_env_vars_in_a_real_run(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_GREETING", "hello")
    monkeypatch.setenv("AIRFLOW_CONN_TARGET", "http://target.example.com:8081")
    runs.run(
        "airflow_env",
        """
    from updraft import Variable
    from updraft.sdk.base_hook import BaseHook

    def read():
        conn = BaseHook.get_connection("target")
        touch("seen.txt", f"{Variable.get('greeting')} {conn.host}:{conn.port}")

    with DAG("airflow_env", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="read", python_callable=read)
        BashOperator(task_id="templated", bash_command="echo {{ var.value.greeting }}")
    """,
    )
    assert runs.states("airflow_env") == {"read": "success", "templated": "success"}
    assert runs.scratch_text("seen.txt").strip() == "hello target.example.com:8081"
    assert runs.tis("airflow_env")["templated"].rendered_fields == {
        "bash_command": "echo hello",
        "env": None,
        "cwd": None,
    }
