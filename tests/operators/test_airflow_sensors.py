"""TimeSensor, the Async (deferrable) sensor aliases, WaitSensor, and deferrable=True accepted."""

from __future__ import annotations

import logging
import time as clock
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.operators.helpers import run_task
from tests.runs.conftest import Runs, runs
from updraft import DAG
from updraft.operators import (
    DateTimeSensor,
    DateTimeSensorAsync,
    ExternalTaskSensor,
    FileSensor,
    PythonSensor,
    TimeDeltaSensor,
    TimeDeltaSensorAsync,
    TimeSensor,
    TimeSensorAsync,
    TriggerDagRunOperator,
    WaitSensor,
)
from updraft.operators.sensors.time_sensor import target_moment
from updraft.sdk.exceptions import UpdraftSkipException

__all__ = ["runs"]

UTC = timezone.utc


def test_target_moment_is_the_time_on_the_day_the_wait_starts() -> None:
    assert target_moment(time(23, 30), datetime(2024, 3, 5, 22, tzinfo=UTC), UTC) == datetime(
        2024, 3, 5, 23, 30, tzinfo=UTC
    )
    # Started after the time: already met (no rolling over to the next day).
    assert target_moment(time(6), datetime(2024, 3, 5, 22, tzinfo=UTC), UTC) == datetime(
        2024, 3, 5, 6, tzinfo=UTC
    )
    # 23:30 UTC is already the 6th in Tokyo: 08:00 JST on the 6th is 23:00 UTC on the 5th.
    tokyo = ZoneInfo("Asia/Tokyo")
    assert target_moment(time(8), datetime(2024, 3, 5, 23, 30, tzinfo=UTC), tokyo) == datetime(
        2024, 3, 5, 23, tzinfo=UTC
    )
    # An aware time keeps its own zone: at 12:00 UTC (21:00 in Tokyo), 08:00 JST that day has passed.
    aware = time(8, tzinfo=tokyo)
    assert target_moment(aware, datetime(2024, 3, 5, 12, tzinfo=UTC), UTC) == datetime(
        2024, 3, 4, 23, tzinfo=UTC
    )


def _sensor_dag(sensor_class: type, **kwargs: object) -> DAG:
    with DAG("sensing", start_date=datetime(2024, 1, 1, tzinfo=UTC), schedule=None) as dag:
        sensor_class(task_id="wait", poke_interval=0.05, **kwargs)
    return dag


@pytest.mark.parametrize("sensor_class", [TimeSensor, TimeSensorAsync])
def test_time_sensor_succeeds_once_the_time_of_day_has_passed(sensor_class: type) -> None:
    run_task(_sensor_dag(sensor_class, target_time=time(0, 0)).task_dict["wait"])
    not_yet = _sensor_dag(sensor_class, target_time=time(23, 59, 59, 999999), timeout=0.2, soft_fail=True)
    if datetime.now(UTC).time() < time(23, 59, 58):
        with pytest.raises(UpdraftSkipException, match="timed out"):
            run_task(not_yet.task_dict["wait"])


def test_time_sensor_target_is_in_the_dags_time_zone() -> None:
    tz = ZoneInfo("Pacific/Kiritimati")  # UTC+14: its date is often not UTC's
    with DAG("tz_sensing", start_date=datetime(2024, 1, 1, tzinfo=tz), schedule=None) as dag:
        sensor = TimeSensor(task_id="wait", target_time=time(0, 0))
    outcome = run_task(dag.task_dict["wait"])
    assert outcome.task.target_datetime == datetime.combine(datetime.now(tz).date(), time(0), tz)
    assert sensor.target_datetime is None  # the DAG's own task object stays unchanged


def test_time_sensor_rejects_a_non_time() -> None:
    with pytest.raises(TypeError, match=r"'wait': target_time must be a datetime.time"):
        _sensor_dag(TimeSensor, target_time="06:00")


def test_async_sensors_behave_like_the_sync_ones() -> None:
    past = datetime(2020, 1, 1, tzinfo=UTC)
    for sensor_class, kwargs in [
        (TimeDeltaSensorAsync, {"delta": timedelta(0)}),
        (TimeDeltaSensor, {"delta": timedelta(0), "deferrable": True, "end_from_trigger": True}),
        (DateTimeSensorAsync, {"target_time": past, "end_from_trigger": True}),
        (DateTimeSensor, {"target_time": "{{ ds }}T00:00:00+00:00", "deferrable": True}),
        (TimeSensorAsync, {"target_time": time(0), "start_from_trigger": True}),
    ]:
        task = _sensor_dag(sensor_class, **kwargs).task_dict["wait"]
        assert task.deferrable is True
        run_task(task)
    future = _sensor_dag(
        DateTimeSensorAsync, target_time="2999-01-01T00:00:00+00:00", timeout=0.1, soft_fail=True
    )
    with pytest.raises(UpdraftSkipException):
        run_task(future.task_dict["wait"])


def test_wait_sensor_waits_from_the_task_start() -> None:
    task = _sensor_dag(WaitSensor, time_to_wait=timedelta(seconds=0.3)).task_dict["wait"]
    started = clock.monotonic()
    run_task(task)
    assert clock.monotonic() - started >= 0.3
    assert _sensor_dag(WaitSensor, time_to_wait=2).task_dict["wait"].time_to_wait == timedelta(minutes=2)
    with pytest.raises(TypeError, match="time_to_wait must be a timedelta or a number of minutes"):
        _sensor_dag(WaitSensor, time_to_wait="2")


def test_deferrable_true_is_accepted_and_ignored_with_a_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with DAG("deferring", start_date=datetime(2024, 1, 1, tzinfo=UTC), schedule=None):
        tasks = [
            FileSensor(task_id="file", filepath="/nowhere", deferrable=True),
            PythonSensor(task_id="python", python_callable=lambda: True, deferrable=True),
            ExternalTaskSensor(task_id="external", external_dag_id="other", deferrable=True),
            TriggerDagRunOperator(task_id="trigger", trigger_dag_id="other", deferrable=True),
        ]
    assert all(task.deferrable for task in tasks)
    ignored = [
        r.getMessage() for r in caplog.records if "deferrable=True is accepted and ignored" in r.getMessage()
    ]
    assert len(ignored) == 4
    assert any("FileSensor 'file'" in message for message in ignored)
    run_task(tasks[1])  # and it runs as usual


def test_airflow_sensors_in_a_real_run(runs: Runs) -> None:
    runs.run(
        "temporal",
        """
    from datetime import time
    from updraft.operators import DateTimeSensorAsync, TimeDeltaSensorAsync, TimeSensor, WaitSensor

    with DAG("temporal", start_date=START, schedule=None, default_args={"poke_interval": 0.05}) as dag:
        TimeSensor(task_id="time", target_time=time(0, 0)) >> TimeDeltaSensorAsync(
            task_id="delta", delta=timedelta(0)
        ) >> DateTimeSensorAsync(task_id="moment", target_time="{{ data_interval_end }}") >> WaitSensor(
            task_id="wait", time_to_wait=timedelta(seconds=0.1), deferrable=True
        )
        TimeSensor(task_id="late", target_time=time(23, 59, 59, 999999), timeout=0.2, soft_fail=True,
                   mode="reschedule")
    """,
    )
    states = runs.states("temporal")
    assert {k: states[k] for k in ("time", "delta", "moment", "wait")} == dict.fromkeys(
        ("time", "delta", "moment", "wait"), "success"
    )
    assert states["late"] in ("skipped", "up_for_reschedule")
