"""``updraft dags pause|unpause|trigger|state|delete|next-execution`` as a user types them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.admin.conftest import ETL_DAG, Admin, at
from updraft.core.dag_admin import trigger_dag
from updraft.core.db.models import DagModel, DagRun

OTHER_DAG = """
from datetime import datetime, timezone
from updraft import DAG
from updraft.operators import EmptyOperator

with DAG("etl_backup", start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), schedule=None):
    EmptyOperator(task_id="only")
"""


def test_pause_and_unpause(admin: Admin):
    admin.store(ETL_DAG)
    admin.store(OTHER_DAG, "other.py")
    unpaused = admin.cli("dags", "unpause", "etl", "-o", "json")
    assert unpaused.returncode == 0, unpaused.stderr
    assert json.loads(unpaused.stdout) == [{"dag_id": "etl", "is_paused": False}]
    assert admin.cli("dags", "unpause", "etl").stdout.strip() == "DAG etl is already unpaused"
    declined = admin.cli("dags", "unpause", "^etl", "--treat-dag-id-as-regex", stdin="n\n")
    assert "You are about to unpause 1 DAG(s):\netl_backup" in declined.stdout
    assert "Operation cancelled by user" in declined.stdout
    paused = admin.cli("dags", "pause", "^etl", "--treat-dag-id-as-regex", "-y", "-o", "json")
    assert json.loads(paused.stdout) == [{"dag_id": "etl", "is_paused": True}]
    listed = json.loads(admin.cli("dags", "list", "-o", "json").stdout)
    assert {d["dag_id"]: d["is_paused"] for d in listed} == {"etl": True, "etl_backup": True}


def test_trigger_state_and_next_execution(admin: Admin):
    admin.store(ETL_DAG)
    triggered = admin.cli(
        "dags",
        "trigger",
        "etl",
        "--conf",
        '{"n": 3}',
        "--run-id",
        "r1",
        "--logical-date",
        "2024-03-01",
        "-o",
        "json",
    )
    assert triggered.returncode == 0, triggered.stderr
    [run] = json.loads(triggered.stdout)
    assert (run["run_id"], run["state"], run["run_type"], run["conf"]) == ("r1", "queued", "manual", {"n": 3})
    assert run["logical_date"] == "2024-03-01T00:00:00+00:00"
    assert "DAG etl is paused: the run waits until `updraft dags unpause etl`" in triggered.stderr

    table = admin.cli("dags", "trigger", "etl")
    assert table.returncode == 0, table.stderr
    assert table.stdout.split()[:5] == ["dag_id", "run_id", "logical_date", "run_type", "state"]

    state = admin.cli("dags", "state", "etl", "r1")
    assert (state.returncode, state.stdout.strip()) == (0, 'queued, {"n": 3}')
    admin.make_run("etl", at(5), run_state="failed")
    assert admin.cli("dags", "state", "etl", "2024-01-05").stdout.strip() == "failed"

    nxt = admin.cli("dags", "next-execution", "etl", "-n", "2")
    assert nxt.returncode == 0, nxt.stderr
    assert nxt.stdout.split() == ["2024-01-06T00:00:00+00:00", "2024-01-07T00:00:00+00:00"]
    assert "[INFO] Please be reminded this DAG is PAUSED now." in nxt.stderr
    admin.store(OTHER_DAG, "other.py")
    manual_only = admin.cli("dags", "next-execution", "etl_backup")
    assert manual_only.returncode == 0 and manual_only.stdout.strip() == "None"
    assert "[WARN] No following schedule can be found" in manual_only.stderr


def test_delete(admin: Admin):
    admin.store(ETL_DAG)
    admin.make_run("etl", at(1))
    declined = admin.cli("dags", "delete", "etl", stdin="n\n")
    assert declined.returncode == 0 and "Cancelled" in declined.stdout
    deleted = admin.cli("dags", "delete", "etl", "-y")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == "Removed 8 record(s)"  # the dag, 1 version, 1 run, 5 TIs
    assert "still exists, so the DAG comes back when the file is parsed again" in deleted.stderr
    gone = admin.cli("dags", "state", "etl", "scheduled__2024-01-01T00:00:00+00:00")
    assert gone.returncode == 2 and "DAG 'etl' is not in the metadata DB" in gone.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("dags", "pause", "nope"), "DAG 'nope' is not in the metadata DB"),
        (("dags", "unpause", "(", "--treat-dag-id-as-regex"), "invalid DAG id regex"),
        (("dags", "trigger", "nope"), "DAG 'nope' is not in the metadata DB"),
        (("dags", "trigger", "etl", "--conf", '{"n": -1}'), "invalid conf for DAG 'etl'"),
        (("dags", "trigger", "etl", "--conf", "[1]"), "JSON object"),
        (("dags", "trigger", "etl", "--run-id", "taken"), "already has a run 'taken'"),
        (("dags", "trigger", "etl", "--logical-date", "soon"), "invalid date 'soon'"),
        (("dags", "state", "etl", "no_run"), "DAG 'etl' has no run with run_id or logical date 'no_run'"),
        (("dags", "state", "nope", "r"), "DAG 'nope' is not in the metadata DB"),
        (("dags", "delete", "nope", "-y"), "DAG 'nope' is not in the metadata DB"),
        (("dags", "next-execution", "nope"), "DAG 'nope' is not in the metadata DB"),
        (("dags", "next-execution", "etl", "-n", "0"), "-n"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(admin: Admin, args: tuple[str, ...], message: str):
    admin.store(ETL_DAG)
    with admin.engine.begin() as conn:
        trigger_dag(conn, "etl", run_id="taken", logical_date=at(1, 2))
    result = admin.cli(*args)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    with admin.engine.connect() as conn:
        assert list(conn.scalars(select(DagRun.run_id))) == ["taken"]
        assert conn.scalar(select(DagModel.is_paused).where(DagModel.dag_id == "etl")) is True
