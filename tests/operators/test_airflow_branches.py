"""BranchDateTimeOperator and BranchDayOfWeekOperator, with Airflow's semantics."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.operators.helpers import LOGICAL_DATE, run_task
from tests.runs.conftest import Runs, runs
from updraft import DAG
from updraft.operators import BranchDateTimeOperator, BranchDayOfWeekOperator, EmptyOperator, WeekDay
from updraft.operators.branch_datetime import target_times_as_dates

__all__ = ["runs"]

# LOGICAL_DATE is Tuesday 2024-03-05 06:07:08 UTC.
UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def _branch_dag(operator: type, start: datetime | None = None, **kwargs: object) -> DAG:
    with DAG("branching", start_date=start or datetime(2024, 1, 1, tzinfo=UTC), schedule=None) as dag:
        branch = operator(
            task_id="branch",
            follow_task_ids_if_true=["yes", "also_yes"],
            follow_task_ids_if_false="no",
            **kwargs,
        )
        branch >> [
            EmptyOperator(task_id="yes"),
            EmptyOperator(task_id="also_yes"),
            EmptyOperator(task_id="no"),
        ]
    return dag


def _followed(dag: DAG) -> object:
    outcome = run_task(dag.task_dict["branch"])
    return outcome.result, sorted(outcome.ti.skipped)


TRUE = (["yes", "also_yes"], ["no"])
FALSE = ("no", ["also_yes", "yes"])


@pytest.mark.parametrize(
    ("lower", "upper", "expected"),
    [
        (datetime(2024, 3, 5, 6, tzinfo=UTC), datetime(2024, 3, 5, 7, tzinfo=UTC), TRUE),
        (datetime(2024, 3, 5, 7, tzinfo=UTC), datetime(2024, 3, 5, 8, tzinfo=UTC), FALSE),
        (datetime(2024, 3, 5, 6, 7, 8, tzinfo=UTC), None, TRUE),  # bounds are inclusive
        (None, datetime(2024, 3, 5, 6, 7, 8, tzinfo=UTC), TRUE),
        (None, datetime(2024, 3, 5, 6, 7, 7, tzinfo=UTC), FALSE),
        (time(6, 0), time(6, 30), TRUE),  # times go on the logical date
        (time(6, 30), time(7, 0), FALSE),
        (time(6, 0), None, TRUE),
        (None, time(6, 0), FALSE),
        (time(22, 0), time(7, 0), FALSE),  # upper before lower: the window ends next day
        (datetime(2024, 3, 5, 6), datetime(2024, 3, 5, 7), TRUE),  # naive: the DAG's zone (UTC)
    ],
)
def test_branch_datetime_with_the_logical_date(lower: object, upper: object, expected: object) -> None:
    dag = _branch_dag(
        BranchDateTimeOperator, target_lower=lower, target_upper=upper, use_task_logical_date=True
    )
    assert _followed(dag) == expected


def test_branch_datetime_window_across_midnight() -> None:
    late = datetime(2024, 3, 5, 23, 30, tzinfo=UTC)
    assert target_times_as_dates(late, time(22), time(2)) == (
        datetime(2024, 3, 5, 22, tzinfo=UTC),
        datetime(2024, 3, 6, 2, tzinfo=UTC),
    )
    dag = _branch_dag(
        BranchDateTimeOperator, target_lower=time(22), target_upper=time(2), use_task_logical_date=True
    )
    outcome = run_task(dag.task_dict["branch"], logical_date=late)
    assert outcome.result == ["yes", "also_yes"]


def test_branch_datetime_times_are_in_the_dags_time_zone() -> None:
    # 06:07 UTC is 07:07 in Berlin.
    start = datetime(2024, 1, 1, tzinfo=BERLIN)
    inside = _branch_dag(
        BranchDateTimeOperator, start, target_lower=time(7), target_upper=time(8), use_task_logical_date=True
    )
    assert _followed(inside) == TRUE
    outside = _branch_dag(
        BranchDateTimeOperator, start, target_lower=time(6), target_upper=time(7), use_task_logical_date=True
    )
    assert _followed(outside) == FALSE


def test_branch_datetime_uses_the_current_time_by_default() -> None:
    now = datetime.now(UTC)
    assert (
        _followed(
            _branch_dag(
                BranchDateTimeOperator,
                target_lower=now - timedelta(hours=1),
                target_upper=now + timedelta(hours=1),
            )
        )
        == TRUE
    )
    assert (
        _followed(
            _branch_dag(
                BranchDateTimeOperator,
                target_lower=datetime(2000, 1, 1, tzinfo=UTC),
                target_upper=datetime(2001, 1, 1, tzinfo=UTC),
            )
        )
        == FALSE
    )


def test_branch_datetime_validates_its_targets() -> None:
    with pytest.raises(ValueError, match="'branch': target_lower and target_upper are both None"):
        _branch_dag(BranchDateTimeOperator, target_lower=None, target_upper=None)
    with pytest.raises(TypeError, match="target_upper must be a datetime, a time or None, got str"):
        _branch_dag(BranchDateTimeOperator, target_lower=None, target_upper="10:00")
    with pytest.raises(TypeError, match="missing required argument"):
        _branch_dag(BranchDateTimeOperator, target_lower=time(1))


@pytest.mark.parametrize(
    ("week_day", "expected"),
    [
        ("Tuesday", TRUE),
        ("TUESDAY", TRUE),
        ("monday", FALSE),
        (WeekDay.TUESDAY, TRUE),
        ({WeekDay.SATURDAY, WeekDay.SUNDAY}, FALSE),
        ({"Sunday", WeekDay.TUESDAY}, TRUE),
        (["Monday", "Wednesday"], FALSE),
    ],
)
def test_branch_day_of_week_with_the_logical_date(week_day: object, expected: object) -> None:
    dag = _branch_dag(BranchDayOfWeekOperator, week_day=week_day, use_task_logical_date=True)
    assert _followed(dag) == expected


def test_branch_day_of_week_uses_today_in_the_dags_time_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    today = datetime.now(tokyo).isoweekday()
    start = datetime(2024, 1, 1, tzinfo=tokyo)
    assert _followed(_branch_dag(BranchDayOfWeekOperator, start, week_day=WeekDay(today))) == TRUE
    other = WeekDay(today % 7 + 1)
    assert _followed(_branch_dag(BranchDayOfWeekOperator, start, week_day=other)) == FALSE


def test_branch_day_of_week_rejects_unknown_days() -> None:
    with pytest.raises(ValueError, match="'branch': Invalid Week Day passed: 'Funday'"):
        _branch_dag(BranchDayOfWeekOperator, week_day="Funday")
    with pytest.raises(ValueError, match="week_day must be"):
        _branch_dag(BranchDayOfWeekOperator, week_day=3)


def test_branches_in_a_real_run(runs: Runs) -> None:
    assert LOGICAL_DATE.isoweekday() == 2
    runs.run(
        "weekday_and_time",
        """
    from datetime import time
    from updraft.operators import BranchDateTimeOperator, BranchDayOfWeekOperator, WeekDay

    with DAG("weekday_and_time", start_date=START, schedule=None) as dag:
        day = BranchDayOfWeekOperator(
            task_id="day", week_day={WeekDay.MONDAY, WeekDay.TUESDAY}, use_task_logical_date=True,
            follow_task_ids_if_true="workday", follow_task_ids_if_false="weekend",
        )
        morning = BranchDateTimeOperator(
            task_id="morning", target_lower=time(5), target_upper=time(12), use_task_logical_date=True,
            follow_task_ids_if_true="am", follow_task_ids_if_false="pm",
        )
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        day >> [EmptyOperator(task_id="workday"), EmptyOperator(task_id="weekend")] >> join
        morning >> [EmptyOperator(task_id="am"), EmptyOperator(task_id="pm")]
    """,
    )
    assert runs.states("weekday_and_time") == {
        "day": "success",
        "workday": "success",
        "weekend": "skipped",
        "join": "success",
        "morning": "success",
        "am": "success",
        "pm": "skipped",
    }
