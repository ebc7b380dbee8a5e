"""Airflow 2 idioms that have no test of their own elsewhere, and a real package under ``airflow.*``."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from sqlalchemy import select

import updraft.compat
from updraft.core.db.engine import get_engine
from updraft.core.db.models import XCom
from updraft.core.runtime.dag_test import test_dag as run_dag
from updraft.sdk import serde

FOLDER = Path(__file__).parent / "dags_idioms"


def test_xcomarg_of_a_task_sla_callback_plugin_and_venv_guard(db_url: str):
    result = run_dag("old_idioms", "2024-02-01", dags_folder=str(FOLDER))
    assert result.state.value == "success"
    with get_engine(db_url).connect() as conn:
        pulled = conn.scalar(select(XCom.value).where(XCom.dag_id == "old_idioms", XCom.task_id == "pull"))
    assert serde.decode(pulled) == 42


def test_a_real_package_under_airflow_is_imported_from_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Airflow's example DAGs import helpers as airflow.example_dags.libs...; a real package placed
    # there must be found by the normal import system, not refused by the compat layer.
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "__init__.py").write_text("")
    (tmp_path / "libs" / "helper.py").write_text("ANSWER = 42\n")
    assert updraft.compat.install()
    import airflow

    package = types.ModuleType("airflow.example_dags")
    package.__path__ = [str(tmp_path)]
    monkeypatch.setitem(sys.modules, "airflow.example_dags", package)
    monkeypatch.delitem(sys.modules, "airflow.example_dags.libs", raising=False)
    monkeypatch.delitem(sys.modules, "airflow.example_dags.libs.helper", raising=False)
    from airflow.example_dags.libs.helper import ANSWER

    assert ANSWER == 42 and airflow.__version__.startswith("3.")
    with pytest.raises(updraft.compat.UnsupportedAirflowFeature, match="not available"):
        __import__("airflow.no_such_module")


DEFAULT_ARGS_TYPOS = """
import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.postgres.operators.postgres import PostgresOperator

default_args = {
    "owner": "data",
    "retires": 3,                  # typo of retries
    "email_on_faliure": True,      # typo of email_on_failure
    "provide_context": True,       # an Airflow 1 key Airflow ignores: no warning
    "postgres_conn_id": "warehouse",  # taken by one task only: no warning
    "team": "payments",            # nothing takes it, nothing close
}

with DAG("typos", start_date=pendulum.datetime(2024, 1, 1), schedule=None, default_args=default_args):
    BashOperator(task_id="hello", bash_command="echo hi")
    PostgresOperator(task_id="load", sql="select 1")
"""


def test_unknown_default_args_keys_are_ignored_with_one_warning_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    from updraft.core.dagbag import load_file

    path = tmp_path / "typos.py"
    path.write_text(DEFAULT_ARGS_TYPOS)
    with caplog.at_level("WARNING", logger="updraft.dag"):
        (dag,), error = load_file(path)
    assert error is None
    assert dag.warnings == [
        "DAG 'typos': default_args key 'retires' is not an argument of any of its tasks and is ignored "
        "(did you mean 'retries'?)",
        "DAG 'typos': default_args key 'email_on_faliure' is not an argument of any of its tasks and is "
        "ignored (did you mean 'email_on_failure'?)",
        "DAG 'typos': default_args key 'team' is not an argument of any of its tasks and is ignored",
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "updraft.dag"] == dag.warnings
    hello = dag.task_dict["hello"]
    assert (hello.retries, hello.owner) == (0, "data")  # the misspelt retries changed nothing
    assert dag.task_dict["load"].conn_id == "warehouse"
