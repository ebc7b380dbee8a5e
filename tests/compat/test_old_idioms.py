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
