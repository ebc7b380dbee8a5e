"""Airflow 3 DAG files (``dags_airflow3/``) run unchanged with ``dags test``, in the states Airflow gives."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.compat.conftest import DAGS3, Compat
from updraft.core.dagbag import load_dagbag
from updraft.sdk.timetables import CronTriggerTimetable, DeltaTriggerTimetable, NullTimetable


def test_every_airflow3_file_loads():
    bag = load_dagbag([DAGS3])
    assert bag.import_errors == {}
    assert set(bag.dags) == {
        "a3_cron",
        "a3_delta",
        "a3_no_schedule_argument",
        "a3_none",
        "a3_outcomes",
        "a3_params",
        "a3_params_target",
        "a3_preset",
        "a3_sensors",
        "a3_sql",
        "a3_taskflow",
        "a3_lookups",
        "a3_asset_metadata",
        "a3_mapped_groups",
    }


@pytest.mark.parametrize(
    ("conf", "total", "describe"),
    [(None, 90, "run:90:2024-03-06"), ({"factor": 2, "label": "adhoc"}, 18, "adhoc:18:2024-03-06")],
)
def test_taskflow_mapping_params_and_xcom_between_classic_and_taskflow(
    compat: Compat, conf: dict | None, total: int, describe: str
):
    result = compat.run("a3_taskflow", DAGS3, conf=conf)
    assert compat.states(result) == {
        "numbers": "success",
        "read_factor": "success",
        "scale[0]": "success",
        "scale[1]": "success",
        "scale[2]": "success",
        "total": "success",
        "report.describe": "success",
        "report.shout": "success",
        "read_bash": "success",
    }
    assert result.state.value == "success"
    assert compat.xcom("a3_taskflow", "total") == total
    assert compat.xcom("a3_taskflow", "report.describe") == describe
    assert compat.xcom("a3_taskflow", "report.shout") == describe.upper()
    assert compat.xcom("a3_taskflow", "read_bash") == describe.upper()[::-1]


def test_taskflow_structure():
    dag = load_dagbag([DAGS3 / "a3_taskflow.py"]).dags["a3_taskflow"]
    assert dag.dag_id == "a3_taskflow" and dag.catchup is False
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert "scale" in dag.task_dict["numbers"].downstream_task_ids
    assert dag.get_edge_info("numbers", "scale").get("label") == "scale"


def test_branch_short_circuit_sensors_notifier_and_trigger_rules(compat: Compat):
    result = compat.run("a3_outcomes", DAGS3)
    assert compat.states(result) == {
        "choose": "success",
        "fast_lane": "success",
        "slow_lane": "skipped",
        "after_slow": "skipped",
        "merge": "success",
        "worth_it": "success",
        "expensive": "skipped",
        "wait_for_token": "success",
        "use_token": "success",
        "never_ready": "skipped",
        "custom_sensor": "success",
        "not_today": "skipped",
        "broken": "failed",
        "cleanup": "success",
        "report": "success",
        "publish": "upstream_failed",
        "announce": "skipped",
    }
    assert result.state.value == "failed"
    broken = next(r for r in result.records if r.task_id == "broken")
    assert broken.try_number == 1 and broken.max_tries == 2  # AirflowFailException: no retry
    assert compat.text("a3_broken_tries.txt") == "try\n"
    assert compat.proof("notified_broken") == {
        "task": "broken",
        "message": "a3_outcomes broke on 2024-03-06",
        "dag": "a3_outcomes",
    }
    assert compat.xcom("a3_outcomes", "wait_for_token") == {"token": "t-42"}
    assert compat.xcom("a3_outcomes", "use_token") == "T-42"
    assert compat.xcom("a3_outcomes", "custom_sensor") == "ready"


def test_branch_takes_the_other_lane_from_conf(compat: Compat):
    result = compat.run("a3_outcomes", DAGS3, conf={"hurry": False})
    states = compat.states(result)
    assert (states["fast_lane"], states["slow_lane"], states["after_slow"], states["merge"]) == (
        "skipped",
        "success",
        "success",
        "success",
    )


def test_sql_execute_query_against_sqlite(compat: Compat, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    database = tmp_path / "visits.db"
    monkeypatch.setenv("AIRFLOW_CONN_COMPAT_SQLITE", f"sqlite:///{database}")
    result = compat.run("a3_sql", DAGS3)
    assert compat.states(result) == dict.fromkeys(["create", "insert", "select", "summarize"], "success")
    assert compat.xcom("a3_sql", "select") == [["lima", 4], ["oslo", 8]]
    assert compat.xcom("a3_sql", "summarize") == {"rows": [["lima", 4], ["oslo", 8]], "total": 12}
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT COUNT(*), SUM(n) FROM visits WHERE day = '2024-03-06'").fetchone() == (
            3,
            12,
        )


def test_schedule_argument_forms_follow_airflow3():
    dags = load_dagbag([DAGS3 / "a3_schedules.py"]).dags
    assert isinstance(dags["a3_cron"].timetable, CronTriggerTimetable)
    assert isinstance(dags["a3_preset"].timetable, CronTriggerTimetable)
    assert isinstance(dags["a3_delta"].timetable, DeltaTriggerTimetable)
    assert isinstance(dags["a3_none"].timetable, NullTimetable)
    # No schedule argument: never scheduled (Airflow 3), not @daily (Airflow 2).
    assert dags["a3_no_schedule_argument"].schedule is None
    assert isinstance(dags["a3_no_schedule_argument"].timetable, NullTimetable)
    assert all(dag.catchup is False for dag in dags.values())


def test_standard_provider_sensors(compat: Compat):
    result = compat.run("a3_sensors", DAGS3, "2024-03-06")  # a Wednesday
    assert compat.states(result) == dict.fromkeys(
        ["python", "bash", "file", "delta", "datetime", "weekday", "done"], "success"
    )


def test_params_from_trigger_conf(compat: Compat):
    result = compat.run("a3_params", DAGS3, conf={"city": "lima"})
    assert compat.states(result) == dict.fromkeys(
        ["greet", "hello", "seen", "latest_only", "kick"], "success"
    )
    assert compat.xcom("a3_params", "greet") == "lima-7"
    assert compat.xcom("a3_params", "hello") == "hello Lima (7 days)"
    [kicked] = compat.dag_runs("a3_params_target")
    assert (kicked.run_id, kicked.conf) == ("kicked_by_params", {"city": "lima"})
    assert compat.xcom("a3_params", "seen") == {
        "params": {"city": "lima", "days": 7, "verbose": False},
        "conf": {"city": "lima"},
    }


def test_params_reject_a_conf_that_breaks_validation(compat: Compat):
    with pytest.raises(Exception, match="city"):
        compat.run("a3_params", DAGS3, conf={"city": "paris"})


@pytest.fixture
def lookups_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_COMPAT_DB", "postgres://reader:secret@db.example.com:5432/sales")
    monkeypatch.setenv("AIRFLOW_VAR_COMPAT_JSON", '{"limit": 5}')


def test_sdk_connection_get(compat: Compat, lookups_env: None):
    result = compat.run("a3_lookups", DAGS3)
    assert compat.states(result)["connection_get"] == "success"
    assert compat.xcom("a3_lookups", "connection_get") == {
        "conn_type": "postgres",
        "host": "db.example.com",
        "login": "reader",
        "missing": "not found",
    }


def test_sdk_variable_get_with_default(compat: Compat, lookups_env: None):
    result = compat.run("a3_lookups", DAGS3)
    assert compat.states(result)["variable_get"] == "success"
    assert compat.xcom("a3_lookups", "variable_get") == {"json": {"limit": 5}, "default": "total"}


def test_yielded_metadata_becomes_the_extra_of_the_asset_event(compat: Compat):
    from sqlalchemy import select

    from updraft.core.db.engine import get_engine
    from updraft.core.db.models import AssetEvent, AssetModel

    result = compat.run("a3_asset_metadata", DAGS3)
    assert compat.states(result) == {"publish_orders": "success"}
    assert compat.xcom("a3_asset_metadata", "publish_orders") == "published"
    with get_engine().connect() as conn:
        events = conn.execute(
            select(AssetModel.uri, AssetEvent.extra).join(AssetModel, AssetModel.id == AssetEvent.asset_id)
        ).all()
    assert [(uri, extra) for uri, extra in events] == [
        ("s3://warehouse/orders.parquet", {"rows": 42, "source": "erp"})
    ]


MAPPED_GROUP_STATES = {
    "numbers": "success",
    "scale.add_one[0]": "success",
    "scale.add_one[1]": "failed",
    "scale.add_one[2]": "success",
    "scale.times[0]": "success",
    "scale.times[1]": "upstream_failed",  # only the failed item's own chain stops
    "scale.times[2]": "success",
    "total": "success",
    "greet.make[0]": "success",
    "greet.make[1]": "success",
    "greet.shout[0]": "success",
    "greet.shout[1]": "success",
    "collect": "success",
}


def test_mapped_task_groups_chain_each_item_on_its_own(compat: Compat):
    result = compat.run("a3_mapped_groups", DAGS3)
    assert compat.states(result) == MAPPED_GROUP_STATES
    assert result.state.value == "success"  # the leaves (total, collect) succeeded
    assert compat.xcom("a3_mapped_groups", "total") == (1 + 1) * 10 + (3 + 1) * 10
    assert compat.xcom("a3_mapped_groups", "collect") == ["HELLO ADA!", "HELLO BOB?"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("g.expand(nope=[1])", "cannot expand over 'nope': g() takes no argument of that name"),
        ("g.expand(x=5)", "expand() argument 'x' must be a list, tuple, dict or XComArg, got int"),
        ("g.partial(x=1).expand(x=[2])", "'x' is given to both partial() and expand()"),
        ("outer.expand(y=[1])", "a mapped task group inside another mapped task group is not supported"),
        ("inner_mapped.expand(y=[1])", "a mapped task (.expand) inside the mapped task group"),
    ],
)
def test_bad_mapped_task_groups_fail_at_import(tmp_path: Path, body: str, message: str):
    from updraft.core.dagbag import load_file

    path = tmp_path / "bad_group.py"
    path.write_text(
        f"""
import pendulum
from airflow.sdk import DAG, task, task_group

@task
def t(x):
    return x

@task_group
def g(x):
    t(x)

@task_group
def outer(y):
    g.expand(x=[y])

@task_group
def inner_mapped(y):
    t.expand(x=[1, 2])

with DAG("bad_group", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
    {body}
"""
    )
    dags, error = load_file(path)
    assert dags == [] and error is not None
    assert message in error, error
