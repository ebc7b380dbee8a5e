"""Airflow 2 DAG files (``dags_airflow2/``) run unchanged with ``dags test``, in the states Airflow gives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.compat.conftest import DAGS2, Compat
from updraft.core.dagbag import load_dagbag


def test_every_airflow2_file_loads():
    bag = load_dagbag([DAGS2])
    assert bag.import_errors == {}
    assert set(bag.dags) == {
        "a2_branching",
        "a2_every_six_hours",
        "a2_failures",
        "a2_scheduled_dates",
        "a2_sensors",
        "a2_taskflow",
        "a2_templates",
        "a2_toolbox",
        "a2_trigger",
        "a2_trigger_target",
        "a2_weekday_mornings",
    }


def test_templates_context_and_custom_operator(compat: Compat):
    result = compat.run("a2_templates", DAGS2, "2024-03-06")
    assert compat.states(result) == {
        "begin": "success",
        "echo_dates": "success",
        "record_context": "success",
        "stamp": "success",
        "end": "success",
    }
    assert result.state.value == "success"
    assert compat.text("a2_templates_bash.txt").split() == [
        "2024-03-06",
        "20240306",
        "2024/03/06",
        "2024-03-07",
        "20240307",
        "2024-03-05",
        "20240305",
        "2024-03-11",
    ]
    seen = compat.proof("a2_templates_context")
    assert seen["ds"] == "2024-03-06"
    assert seen["ds_nodash"] == "20240306"
    assert seen["ts"] == "2024-03-06T00:00:00+00:00"
    assert seen["execution_date"] == seen["logical_date"] == "2024-03-06T00:00:00+00:00"
    assert (seen["tomorrow_ds"], seen["tomorrow_ds_nodash"]) == ("2024-03-07", "20240307")
    assert (seen["yesterday_ds"], seen["yesterday_ds_nodash"]) == ("2024-03-05", "20240305")
    assert compat.xcom("a2_templates", "record_context") == "2024-03-07"
    # The custom operator: templated fields rendered, default_args applied, its own retries win.
    assert compat.proof("a2_templates_stamp") == {
        "stamp": "2024-03-03|eu|stamp",
        "owner": "data-team",
        "retries": 0,
    }
    assert compat.xcom("a2_templates", "stamp") == "2024-03-03|eu|stamp"


def test_unknown_default_args_key_is_ignored():
    # Airflow ignores default_args keys no operator takes; Updraft logs no warning for them either
    # (none is emitted today, so none is asserted).
    bag = load_dagbag([DAGS2 / "a2_templates.py"])
    dag = bag.dags["a2_templates"]
    echo = dag.task_dict["echo_dates"]
    assert (echo.owner, echo.retries, echo.retry_delay) == ("data-team", 2, timedelta(minutes=5))
    assert not hasattr(echo, "this_key_means_nothing")


@pytest.mark.parametrize("prefix", ["AIRFLOW", "UPDRAFT"])
def test_variables_connections_conf_and_utils(compat: Compat, monkeypatch: pytest.MonkeyPatch, prefix: str):
    monkeypatch.setenv(f"{prefix}_CONN_COMPAT_API", "http://user:p%40ss@api.example.com:8443/v1?timeout=5")
    monkeypatch.setenv("AIRFLOW_VAR_COMPAT_SETTINGS", '{"batch": 50, "tags": ["a", "b"]}')
    monkeypatch.setenv("AIRFLOW_VAR_COMPAT_PLAIN", "plain-text")
    monkeypatch.setenv("UPDRAFT__CORE__DAGS_FOLDER", str(DAGS2))
    result = compat.run("a2_toolbox", DAGS2)
    assert result.state.value == "success"
    assert set(compat.states(result).values()) == {"success"}
    assert set(compat.states(result)) == {
        "start",
        "read_settings",
        "read_connection",
        "read_conf",
        "use_utils",
        "fan.left",
        "fan.right",
        "sink_a",
        "sink_b",
    }
    assert compat.xcom("a2_toolbox", "read_settings") == {
        "settings": {"batch": 50, "tags": ["a", "b"]},
        "missing": "fallback",
        "plain": "plain-text",
    }
    assert compat.xcom("a2_toolbox", "read_connection") == {
        "conn_type": "http",
        "host": "api.example.com",
        "port": 8443,
        "login": "user",
        "password": "p@ss",
        "schema": "v1",
        "extra": {"timeout": "5"},
        "not_found": True,
    }
    assert compat.xcom("a2_toolbox", "read_conf") == {"dags_folder": str(DAGS2), "fallback": "dflt"}
    utils = compat.xcom("a2_toolbox", "use_utils")
    assert utils.pop("logger").endswith(".Reporter")
    assert utils == {
        "aware": True,
        "success": True,
        "failed_states": ["failed", "upstream_failed"],
        "rule": True,
        "monday": True,
        "is_exception": True,
    }


def test_toolbox_structure_chain_cross_downstream_and_label():
    dag = load_dagbag([DAGS2 / "a2_toolbox.py"]).dags["a2_toolbox"]
    tasks = dag.task_dict
    assert tasks["start"].downstream_task_ids == {"read_settings", "read_connection"}
    assert tasks["read_settings"].downstream_task_ids == {"read_conf"}
    assert tasks["read_connection"].downstream_task_ids == {"read_conf"}
    assert tasks["fan.left"].downstream_task_ids == {"sink_a", "sink_b"}
    assert tasks["fan.right"].downstream_task_ids == {"sink_a", "sink_b"}
    assert tasks["use_utils"].downstream_task_ids == {"fan.left", "fan.right"}
    assert dag.get_edge_info("use_utils", "fan.left").get("label") == "fan out"


@pytest.mark.parametrize(
    ("rows", "followed", "not_followed"),
    [(10, {"small_batch"}, {"big_batch", "after_big"}), (500, {"big_batch", "after_big"}, {"small_batch"})],
)
def test_branching_short_circuit_latest_only_and_skip(
    compat: Compat, rows: int, followed: set[str], not_followed: set[str]
):
    result = compat.run("a2_branching", DAGS2, conf={"rows": rows})
    states = compat.states(result)
    assert result.state.value == "success"
    assert {t: states[t] for t in followed} == dict.fromkeys(followed, "success")
    assert {t: states[t] for t in not_followed} == dict.fromkeys(not_followed, "skipped")
    assert states["pick_path"] == states["join"] == "success"
    assert (states["pick_region"], states["region_eu"], states["region_us"]) == (
        "success",
        "success",
        "skipped",
    )
    assert (states["gate"], states["mail"]) == ("success", "skipped")
    # A manual run is never skipped by LatestOnlyOperator.
    assert (states["latest_only"], states["after_latest"]) == ("success", "success")
    assert (states["skipper"], states["after_skip"], states["after_skip_all_done"]) == (
        "skipped",
        "skipped",
        "success",
    )


def test_fail_exception_ignores_retries_and_trigger_rules_react(compat: Compat):
    result = compat.run("a2_failures", DAGS2)
    assert compat.states(result) == {
        "ok": "success",
        "refuse": "failed",
        "downstream": "upstream_failed",
        "on_failure": "success",
        "always": "success",
        "on_success_only": "success",
        "never": "upstream_failed",
    }
    assert result.state.value == "failed"
    refuse = next(r for r in result.records if r.task_id == "refuse")
    assert refuse.try_number == 1 and refuse.max_tries == 3
    assert compat.text("a2_failures_tries.txt") == "try\n"
    assert compat.text("a2_failures_cleanup.txt") == "cleanup\n"


def test_sensors(compat: Compat):
    result = compat.run("a2_sensors", DAGS2)
    assert compat.states(result) == {
        "python_ok": "success",
        "bash_ok": "success",
        "file_ok": "success",
        "delta_ok": "success",
        "datetime_ok": "success",
        "weekday_ok": "success",
        "counting": "success",
        "all_ok": "success",
        # Soft-failing sensors end skipped, on a timeout or on AirflowSensorTimeout, and so does
        # what follows them.
        "never_true": "skipped",
        "after_never": "skipped",
        "give_up": "skipped",
        "other_dag": "skipped",
    }
    assert result.state.value == "success"
    assert compat.xcom("a2_sensors", "counting") == {"pokes": 3}


def test_trigger_dagrun_creates_the_run_with_conf(compat: Compat):
    result = compat.run("a2_trigger", DAGS2)
    assert compat.states(result) == {"kick": "success"}
    [run] = compat.dag_runs("a2_trigger_target")
    assert run.run_id == "from_a2_trigger__2024-03-06"
    assert run.conf == {"origin": "a2_trigger", "day": "2024-03-06"}


def test_timetable_argument_and_days_ago(compat: Compat):
    from updraft.sdk.timetables import CronTriggerTimetable

    bag = load_dagbag([DAGS2 / "a2_timetables.py"])
    mornings = bag.dags["a2_weekday_mornings"]
    assert isinstance(mornings.timetable, CronTriggerTimetable)
    six_hours = bag.dags["a2_every_six_hours"]
    midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    assert six_hours.start_date == midnight - timedelta(days=2)
    assert six_hours.catchup is False  # Airflow 3's default, also for Airflow 2 files
    result = compat.run("a2_weekday_mornings", DAGS2, "2024-03-06T06:30:00+00:00")
    assert compat.states(result) == {"show": "success"}
    assert compat.xcom("a2_weekday_mornings", "show") == "2024-03-06T06:30:00+00:00 Wednesday"


def test_airflow2_taskflow_and_date_branches(compat: Compat):
    result = compat.run("a2_taskflow", DAGS2, "2024-03-06")  # a Wednesday in March
    assert compat.states(result) == {
        "split": "success",
        "double[0]": "success",
        "double[1]": "success",
        "double[2]": "success",
        "totals.add": "success",
        "by_day": "success",
        "wednesday": "success",
        "other_day": "skipped",
        "by_date": "success",
        "in_march": "success",
        "not_in_march": "skipped",
    }
    assert compat.xcom("a2_taskflow", "split", key="head") == [1, 2]
    assert compat.xcom("a2_taskflow", "totals.add") == 120
