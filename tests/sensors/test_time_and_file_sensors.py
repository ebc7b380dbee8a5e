"""FileSensor (globs, fs connections), time sensors, DayOfWeekSensor and BashSensor in real runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.runs.conftest import Runs
from updraft.operators import DateTimeSensor, DayOfWeekSensor, FileSensor, TimeDeltaSensor
from updraft.operators.sensors.date_time import parse_moment

PRELUDE = """
import threading
from updraft.operators import (
    BashSensor, DateTimeSensor, DayOfWeekSensor, FileSensor, TimeDeltaSensor,
)
"""


def test_file_sensor_waits_for_a_glob_match(runs: Runs) -> None:
    (runs.scratch / "data_0.txt").write_text("not a match")
    (runs.scratch / "empty_dir").mkdir()
    for path in ("deep/a/b/x.done", "folder/inner/file"):
        (runs.scratch / path).parent.mkdir(parents=True)
        (runs.scratch / path).write_text("")
    runs.run(
        "files",
        """
    with DAG("files", start_date=START, schedule=None,
             default_args={"poke_interval": 0.05, "timeout": 20}) as dag:
        def write_later():  # dags test runs tasks in this process: the timer fires mid-wait
            threading.Timer(0.2, touch, args=("data_7.csv",)).start()

        writer = PythonOperator(task_id="writer", python_callable=write_later)
        csv = FileSensor(task_id="csv", filepath=TMP + "/data_*.csv")
        writer >> csv >> [
            FileSensor(task_id="recursive", filepath=TMP + "/deep/**/*.done", recursive=True),
            FileSensor(task_id="folder", filepath=TMP + "/folder"),
            FileSensor(task_id="empty_folder", filepath=TMP + "/empty_dir", timeout=0.1, soft_fail=True),
        ]
    """,
        prelude=PRELUDE,
    )
    assert runs.states("files") == {
        "writer": "success",
        "csv": "success",
        "recursive": "success",
        "folder": "success",
        "empty_folder": "skipped",
    }
    csv = runs.tis("files")["csv"]
    assert csv.end_date - csv.start_date >= timedelta(seconds=0.1)  # it had to wait for the file
    assert csv.rendered_fields == {"filepath": f"{runs.scratch}/data_*.csv"}


def test_file_sensor_paths_are_relative_to_the_fs_connection(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "UPDRAFT_CONN_FS_SCRATCH", json.dumps({"conn_type": "fs", "extra": {"path": str(runs.scratch)}})
    )
    (runs.scratch / "ready.flag").write_text("")
    runs.run(
        "fs_conn",
        """
    with DAG("fs_conn", start_date=START, schedule=None) as dag:
        FileSensor(task_id="wait", filepath="{{ 'ready' }}.flag", fs_conn_id="fs_scratch", timeout=5,
                   poke_interval=0.05)
    """,
        prelude=PRELUDE,
    )
    assert runs.states("fs_conn") == {"wait": "success"}


def test_file_sensor_without_a_connection_uses_the_path_as_given(tmp_path: Path) -> None:
    sensor = FileSensor(task_id="f", filepath=tmp_path / "x")
    assert sensor.full_path({}) == str(tmp_path / "x")
    assert not sensor.poke({})
    (tmp_path / "x").write_text("")
    assert sensor.poke({})


def test_time_sensors_with_past_targets_succeed_at_once(runs: Runs) -> None:
    runs.run(
        "times",
        """
    with DAG("times", start_date=START, schedule=None, default_args={"timeout": 5}) as dag:
        TimeDeltaSensor(task_id="delta", delta=timedelta(hours=1))
        DateTimeSensor(task_id="templated", target_time="{{ data_interval_end }}")
        DateTimeSensor(task_id="fixed", target_time=datetime(2020, 1, 1, tzinfo=timezone.utc))
        DateTimeSensor(task_id="future", target_time="2999-01-01T00:00:00", timeout=0.1,
                       poke_interval=0.05, soft_fail=True)
        DayOfWeekSensor(task_id="tuesday", week_day={"Tuesday", "Wednesday"},
                        use_task_logical_date=True)
    """,
        prelude=PRELUDE,
    )
    assert runs.states("times") == {
        "delta": "success",
        "templated": "success",
        "fixed": "success",
        "future": "skipped",
        "tuesday": "success",  # 2024-03-05, the runs' logical date, is a Tuesday
    }


def test_time_delta_sensor_falls_back_to_run_after() -> None:
    class Run:
        run_after = datetime.now(timezone.utc) + timedelta(hours=1)

    sensor = TimeDeltaSensor(task_id="d", delta=timedelta(0))
    assert not sensor.poke({"data_interval_end": None, "dag_run": Run()})
    assert sensor.poke({"data_interval_end": datetime(2020, 1, 1, tzinfo=timezone.utc), "dag_run": Run()})


def test_time_sensor_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="'d': delta must be a timedelta"):
        TimeDeltaSensor(task_id="d", delta=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'t': target_time must be a string or a datetime"):
        DateTimeSensor(task_id="t", target_time=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'w': Invalid Week Day"):
        DayOfWeekSensor(task_id="w", week_day="Caturday")
    with pytest.raises(ValueError, match="'t': target_time 'soon' is not an ISO 8601"):
        parse_moment("soon", "t")
    assert parse_moment("2024-01-01T05:00:00", "t") == datetime(2024, 1, 1, 5, tzinfo=timezone.utc)


def test_bash_sensor(runs: Runs) -> None:
    runs.run(
        "bash_sensor",
        """
    with DAG("bash_sensor", start_date=START, schedule=None,
             default_args={"poke_interval": 0.05, "timeout": 20}) as dag:
        BashSensor(task_id="counter",
                   bash_command=f"echo x >> {TMP}/count; [ $(wc -l < {TMP}/count) -ge 2 ]")
        BashSensor(task_id="bad_code", bash_command="exit 3", retry_exit_code=2, retries=2)
        BashSensor(task_id="retry_code", bash_command="exit 2", retry_exit_code=2, timeout=0.1,
                   soft_fail=True)
    """,
        prelude=PRELUDE,
    )
    assert runs.states("bash_sensor") == {"counter": "success", "bad_code": "failed", "retry_code": "skipped"}
    assert runs.scratch_text("count") == "x\nx\n"
    bad = runs.tis("bash_sensor")["bad_code"]
    assert bad.try_number == 1  # an unexpected exit code fails at once
    assert "return code 3" in runs.history("bash_sensor", "bad_code")[0]["error"]
