"""Setup/teardown tasks: teardowns run whatever happened, and only fail the run when asked to."""

from __future__ import annotations

from pathlib import Path

import pytest

from updraft.core.dagbag import load_dagbag
from updraft.core.runtime.dag_test import test_dag as run_dag

FOLDER = Path(__file__).parent / "dags_setup_teardown"


def states(result) -> dict[str, str]:
    return {record.task_id: record.state.value for record in result.records}


@pytest.mark.parametrize(
    ("dag_id", "run_state", "expected"),
    [
        ("st_work_fails", "failed", {"create": "success", "work": "failed", "delete": "success"}),
        ("st_teardown_fails", "success", {"create": "success", "work": "success", "delete": "failed"}),
        ("st_teardown_fails_run", "failed", {"create": "success", "work": "success", "delete": "failed"}),
        # With no setup succeeded there is nothing to tear down: Airflow skips the teardown.
        ("st_setup_fails", "failed", {"create": "failed", "work": "upstream_failed", "delete": "skipped"}),
    ],
)
def test_teardown_runs_and_run_state(db_url: str, dag_id: str, run_state: str, expected: dict[str, str]):
    result = run_dag(dag_id, "2024-02-01", dags_folder=str(FOLDER))
    assert states(result) == expected
    assert result.state.value == run_state


def test_decorators_and_with_block_wire_setup_before_and_teardown_after(db_url: str):
    dag = load_dagbag([FOLDER]).dags["st_decorated"]
    tasks = dag.task_dict
    assert tasks["make_cluster"].is_setup and tasks["drop_cluster"].is_teardown
    assert tasks["first"].upstream_task_ids == {"make_cluster"}
    assert tasks["second"].downstream_task_ids == {"drop_cluster"}
    assert tasks["drop_cluster"].upstream_task_ids == {"make_cluster", "second"}
    result = run_dag("st_decorated", "2024-02-01", dags_folder=str(FOLDER))
    assert result.state.value == "success"
    assert set(states(result).values()) == {"success"}
