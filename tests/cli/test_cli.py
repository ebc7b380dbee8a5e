"""The ``updraft`` command as a user types it: real processes, real exit codes, real output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

UPDRAFT = str(Path(sys.executable).with_name("updraft"))

DAG_FILE = """
from datetime import datetime
from updraft import DAG, Param, Label
from updraft.operators import BashOperator, PythonOperator

def fail_on_request(params):
    if params["fail"]:
        raise ValueError("asked to fail")
    return params["n"] * 2

with DAG("cli_dag", start_date=datetime(2024, 1, 1), schedule="@daily", tags=["cli"],
         params={"n": Param(2, type="integer", minimum=0), "fail": False}) as dag:
    hello = BashOperator(task_id="hello", bash_command="echo hello {{ ds }}")
    double = PythonOperator(task_id="double", python_callable=fail_on_request)
    hello >> Label("then") >> double
"""


@pytest.fixture
def cli_env(updraft_home: Path, tmp_path: Path) -> dict[str, str]:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "cli_dag.py").write_text(DAG_FILE)
    (dags / "broken.py").write_text("from updraft import DAG\nraise ImportError('missing_dependency_xyz')\n")
    env = {**os.environ, "UPDRAFT__CORE__DAGS_FOLDER": str(dags)}
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([UPDRAFT, *args], env=env, capture_output=True, text=True, timeout=120)


def test_dags_test_succeeds_prints_the_table_and_records_the_run(cli_env: dict[str, str]):
    result = run(cli_env, "dags", "test", "cli_dag", "2024-03-01")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["task_id", "map_index", "state", "tries", "duration"]
    assert any(line.split()[:3] == ["hello", "success", "1"] for line in lines[2:])
    assert "success" in result.stderr and "manual__2024-03-01T00:00:00+00:00" in result.stderr

    runs = json.loads(run(cli_env, "dags", "list-runs", "cli_dag", "-o", "json").stdout)
    assert [(r["run_id"], r["state"]) for r in runs] == [("manual__2024-03-01T00:00:00+00:00", "success")]
    states = json.loads(
        run(cli_env, "tasks", "states-for-dag-run", "cli_dag", runs[0]["run_id"], "-o", "json").stdout
    )
    assert {s["task_id"]: (s["state"], s["try_number"]) for s in states} == {
        "hello": ("success", 1),
        "double": ("success", 1),
    }
    log = run(cli_env, "tasks", "logs", "cli_dag", runs[0]["run_id"], "hello")
    assert "hello 2024-03-01" in log.stdout


def test_dags_test_exits_non_zero_when_a_task_fails_and_names_the_error(cli_env: dict[str, str]):
    result = run(cli_env, "dags", "test", "cli_dag", "2024-03-02", "--conf", '{"fail": true}')
    assert result.returncode == 1
    assert "double failed: ValueError: asked to fail" in result.stderr


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ('{"n": -1}', "'n'"),
        ("{not json", "--conf"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_conf_is_rejected_before_any_run_is_created(cli_env: dict[str, str], conf: str, message: str):
    result = run(cli_env, "dags", "test", "cli_dag", "2024-03-03", "--conf", conf)
    assert result.returncode == 2
    assert message in result.stderr
    assert json.loads(run(cli_env, "dags", "list-runs", "cli_dag", "-o", "json").stdout) == []


def test_unknown_dag_names_the_folder_and_the_files_that_failed(cli_env: dict[str, str]):
    result = run(cli_env, "dags", "test", "no_such_dag")
    assert result.returncode == 2
    assert "DAG 'no_such_dag' was not found in" in result.stderr
    assert "broken.py" in result.stderr


def test_list_commands(cli_env: dict[str, str]):
    listed = json.loads(run(cli_env, "dags", "list", "-o", "json").stdout)
    assert [(d["dag_id"], d["is_paused"], d["tags"]) for d in listed] == [("cli_dag", True, "cli")]
    errors = run(cli_env, "dags", "list-import-errors", "-o", "json")
    assert errors.returncode == 1
    [error] = json.loads(errors.stdout)
    assert error["filepath"].endswith("broken.py") and "missing_dependency_xyz" in error["error"]
    table = run(cli_env, "dags", "list-import-errors")
    assert "broken.py" in table.stdout and "ImportError: missing_dependency_xyz" in table.stdout
    assert run(cli_env, "tasks", "list", "cli_dag").stdout.split() == ["double", "hello"]
    shown = run(cli_env, "dags", "show", "cli_dag").stdout
    assert "hello  <BashOperator>" in shown and ">> double  (then)" in shown


def test_tasks_test_runs_one_task_and_prints_its_log(cli_env: dict[str, str]):
    result = run(cli_env, "tasks", "test", "cli_dag", "hello", "2024-03-04")
    assert result.returncode == 0, result.stderr
    assert "hello 2024-03-04" in result.stdout
    assert json.loads(run(cli_env, "dags", "list-runs", "cli_dag", "-o", "json").stdout) == []


def test_logs_of_unknown_task_and_try_are_clear_errors(cli_env: dict[str, str]):
    run(cli_env, "dags", "test", "cli_dag", "2024-03-05")
    run_id = "manual__2024-03-05T00:00:00+00:00"
    missing_try = run(cli_env, "tasks", "logs", "cli_dag", run_id, "hello", "--try", "7")
    assert missing_try.returncode == 2 and "has no try 7; tries with logs: 1" in missing_try.stderr
    missing_task = run(cli_env, "tasks", "logs", "cli_dag", run_id, "nope")
    assert missing_task.returncode == 2 and "no logs for task 'nope'" in missing_task.stderr


def test_config_list_and_get_value_follow_env_over_file_over_default(updraft_home: Path):
    (updraft_home / "updraft.cfg").write_text(
        textwrap.dedent("""
        [core]
        max_map_length = 77
        parallelism = 5
    """)
    )
    env = {**os.environ, "UPDRAFT__CORE__PARALLELISM": "9"}
    assert run(env, "config", "get-value", "core", "max_map_length").stdout.strip() == "77"
    assert run(env, "config", "get-value", "core", "parallelism").stdout.strip() == "9"
    assert run(env, "config", "get-value", "core", "dags_folder").stdout.strip() == str(updraft_home / "dags")
    unknown = run(env, "config", "get-value", "core", "no_such_key")
    assert unknown.returncode != 0 and "no_such_key" in unknown.stderr
    listing = run(env, "config", "list", "--show-sources").stdout
    assert "[core]" in listing and "parallelism = 9  # source: env var" in listing
    assert "max_map_length = 77  # source: updraft.cfg" in listing


def test_db_migrate_and_reset(cli_env: dict[str, str]):
    assert run(cli_env, "db", "migrate").returncode == 0
    run(cli_env, "dags", "test", "cli_dag", "2024-03-06")
    assert len(json.loads(run(cli_env, "dags", "list-runs", "cli_dag", "-o", "json").stdout)) == 1
    reset = run(cli_env, "db", "reset", "-y")
    assert reset.returncode == 0, reset.stderr
    assert json.loads(run(cli_env, "dags", "list-runs", "cli_dag", "-o", "json").stdout) == []
