"""``next_executions``: the next logical dates of a DAG, as the scheduler will create its runs."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import update

from tests.admin.conftest import Admin, at
from updraft.core.dag_admin import DagAdminError, next_executions, trigger_dag
from updraft.core.dag_runs import DagNotStored
from updraft.core.db.models import DagModel
from updraft.sdk import timetables

NOW = at(15, 6, hour=12)  # 2024-06-15 12:00 UTC

DAG_FILE = """
from datetime import datetime, timedelta, timezone
from updraft import DAG
from updraft.operators import EmptyOperator
from updraft.sdk.timetables import CronDataIntervalTimetable

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
with DAG("{dag_id}", start_date=START, schedule={schedule}, catchup={catchup}{extra}):
    EmptyOperator(task_id="only")
"""


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timetables, "_utcnow", lambda: NOW)


def _store(admin: Admin, schedule: str, catchup: bool = True, extra: str = "", dag_id: str = "d") -> None:
    source = DAG_FILE.format(dag_id=dag_id, schedule=schedule, catchup=catchup, extra=extra)
    admin.store(source, f"{dag_id}.py")


def _next(admin: Admin, num: int = 3, dag_id: str = "d") -> list[datetime]:
    with admin.engine.connect() as conn:
        return next_executions(conn, dag_id, num)


@pytest.mark.parametrize(
    ("schedule", "catchup", "extra", "expected"),
    [
        ('"@daily"', True, "", [at(1), at(2), at(3)]),
        ('"@daily"', False, "", [at(15, 6), at(16, 6), at(17, 6)]),
        ('"0 6 * * 1"', True, "", [at(1, hour=6), at(8, hour=6), at(15, hour=6)]),  # Mondays at 06:00
        ("timedelta(hours=6)", True, "", [at(1), at(1, hour=6), at(1, hour=12)]),
        ('CronDataIntervalTimetable("0 0 * * *", "UTC")', True, "", [at(1), at(2), at(3)]),
        ('CronDataIntervalTimetable("0 0 * * *", "UTC")', False, "", [at(14, 6), at(15, 6), at(16, 6)]),
        ('"@daily"', True, ", end_date=datetime(2024, 1, 2, tzinfo=timezone.utc)", [at(1), at(2)]),
        ('"@once"', True, "", [at(1)]),
        ("None", True, "", []),
    ],
)
def test_next_dates_by_timetable(admin: Admin, schedule: str, catchup: bool, extra: str, expected):
    _store(admin, schedule, catchup, extra)
    assert _next(admin) == expected


def test_dates_follow_the_latest_scheduled_run_and_ignore_manual_ones(admin: Admin):
    _store(admin, '"@daily"')
    admin.make_run("d", at(1))
    admin.make_run("d", at(2))
    with admin.engine.begin() as conn:
        trigger_dag(conn, "d", logical_date=at(20))
    assert _next(admin, 2) == [at(3), at(4)]


def test_once_has_no_next_date_after_its_run(admin: Admin):
    _store(admin, '"@once"')
    admin.make_run("d", at(1))
    assert _next(admin) == []


def test_the_schedulers_planned_run_comes_first(admin: Admin):
    _store(admin, '"@daily"')
    with admin.engine.begin() as conn:
        conn.execute(
            update(DagModel).values(
                next_dagrun=at(10, 3),
                next_dagrun_data_interval_start=at(10, 3),
                next_dagrun_data_interval_end=at(10, 3),
                next_dagrun_create_after=at(10, 3),
            )
        )
    assert _next(admin, 2) == [at(10, 3), at(11, 3)]


def test_bad_arguments(admin: Admin):
    _store(admin, '"@daily"')
    with pytest.raises(DagAdminError, match="1 or more"):
        _next(admin, 0)
    with pytest.raises(DagNotStored, match="DAG 'nope'"):
        _next(admin, 1, dag_id="nope")
