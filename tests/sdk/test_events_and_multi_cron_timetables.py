"""EventsTimetable and MultipleCronTriggerTimetable: run sequences, catchup, manual runs, labels,
round trips, errors, Airflow import paths, and the real scheduler creating their runs."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

import updraft.compat
from tests.scheduler.conftest import Env, env, scheduler, wait_for  # noqa: F401  (fixtures reused here)
from tests.sdk.timetable_helpers import UTC, utc
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import DagDefinitionError
from updraft.sdk.serialization import deserialize_dag, serialize_dag
from updraft.sdk.timetables import (
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    describe_schedule,
    deserialize_timetable,
    serialize_timetable,
)
from updraft.sdk.timetables_extra import EventsTimetable, MultipleCronTriggerTimetable

BERLIN = ZoneInfo("Europe/Berlin")


def runs(tt: Timetable, restriction: TimeRestriction, count: int = 20) -> list[DagRunInfo]:
    """Up to ``count`` runs, feeding each run's interval back in as the scheduler does."""
    out: list[DagRunInfo] = []
    last = None
    for _ in range(count):
        info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        out.append(info)
        last = info.data_interval
    return out


def dates(infos: list[DagRunInfo]) -> list[dt.datetime]:
    return [info.logical_date for info in infos]


CATCHUP = TimeRestriction(None, None, catchup=True)
EVENTS = [utc(2024, 3, 1, 12), utc(2024, 1, 5, 9), utc(2024, 2, 10, 18, 30)]  # out of order on purpose


# --- EventsTimetable: the run sequence --------------------------------------------------------


def test_events_run_in_order_each_covering_its_own_instant() -> None:
    infos = runs(EventsTimetable(EVENTS), CATCHUP)
    assert dates(infos) == sorted(EVENTS)
    for info in infos:
        assert info.run_after == info.logical_date == info.data_interval.start == info.data_interval.end


def test_events_after_the_last_run_only_and_none_after_the_last_event() -> None:
    tt = EventsTimetable(EVENTS)
    last = DataInterval.exact(utc(2024, 2, 10, 18, 30))
    info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=CATCHUP)
    assert info is not None and info.logical_date == utc(2024, 3, 1, 12)
    done = DataInterval.exact(utc(2024, 3, 1, 12))
    assert tt.next_dagrun_info(last_automated_data_interval=done, restriction=CATCHUP) is None


def test_events_catchup_starts_at_the_start_date_and_stops_at_the_end_date() -> None:
    restriction = TimeRestriction(utc(2024, 1, 5, 9, 0, 1), utc(2024, 2, 10, 18, 30), catchup=True)
    assert dates(runs(EventsTimetable(EVENTS), restriction)) == [utc(2024, 2, 10, 18, 30)]
    at_start = TimeRestriction(utc(2024, 1, 5, 9), None, catchup=True)  # the start date is inclusive
    assert dates(runs(EventsTimetable(EVENTS), at_start)) == sorted(EVENTS)


def test_events_without_catchup_skip_every_event_already_past(now: Any) -> None:
    now(utc(2024, 2, 1))
    no_catchup = TimeRestriction(utc(2023, 1, 1), None, catchup=False)
    assert dates(runs(EventsTimetable(EVENTS), no_catchup)) == [utc(2024, 2, 10, 18, 30), utc(2024, 3, 1, 12)]
    # a start date later than now still holds
    later = TimeRestriction(utc(2024, 2, 20), None, catchup=False)
    assert dates(runs(EventsTimetable(EVENTS), later)) == [utc(2024, 3, 1, 12)]
    now(utc(2024, 4, 1))
    assert runs(EventsTimetable(EVENTS), no_catchup) == []


def test_events_duplicates_and_time_zones_collapse_to_one_run_per_instant() -> None:
    noon_berlin = dt.datetime(2024, 6, 1, 12, tzinfo=BERLIN)  # 10:00 UTC
    tt = EventsTimetable([utc(2024, 6, 1, 10), noon_berlin, utc(2024, 5, 1), utc(2024, 5, 1)], presorted=True)
    infos = runs(tt, CATCHUP)
    assert dates(infos) == [utc(2024, 5, 1), utc(2024, 6, 1, 10)]
    assert all(info.logical_date.tzinfo == UTC for info in infos)
    assert tt.summary == "2 events"


def test_an_empty_event_list_is_allowed_and_never_runs() -> None:
    tt = EventsTimetable([])
    assert runs(tt, CATCHUP) == []
    assert tt.summary == tt.description == "No events"
    assert tt.infer_manual_data_interval(run_after=utc(2024, 1, 1)) == DataInterval.exact(utc(2024, 1, 1))
    tt = EventsTimetable([], restrict_to_events=True)
    assert tt.infer_manual_data_interval(run_after=utc(2024, 1, 1)) == DataInterval.exact(utc(2024, 1, 1))


# --- EventsTimetable: manual runs, labels, errors ---------------------------------------------


@pytest.mark.parametrize(
    ("run_after", "expected"),
    [
        (utc(2023, 12, 1), utc(2024, 1, 5, 9)),  # before every event: the first one
        (utc(2024, 1, 5, 9), utc(2024, 1, 5, 9)),  # exactly at an event
        (utc(2024, 2, 11), utc(2024, 2, 10, 18, 30)),  # between events: the latest one before
        (utc(2030, 1, 1), utc(2024, 3, 1, 12)),  # after all of them: the last one
    ],
)
def test_manual_runs_restricted_to_events_cover_the_latest_event(
    run_after: dt.datetime, expected: dt.datetime
) -> None:
    tt = EventsTimetable(EVENTS, restrict_to_events=True)
    assert tt.infer_manual_data_interval(run_after=run_after) == DataInterval.exact(expected)


def test_manual_runs_not_restricted_cover_their_own_moment() -> None:
    at = dt.datetime(2024, 2, 11, 15, tzinfo=BERLIN)
    interval = EventsTimetable(EVENTS).infer_manual_data_interval(run_after=at)
    assert interval == DataInterval.exact(at) and interval.start.tzinfo == UTC


def test_events_summary_and_description() -> None:
    tt = EventsTimetable(EVENTS)
    assert tt.summary == "3 events"
    assert tt.description == "3 events between 2024-01-05T09:00:00+00:00 and 2024-03-01T12:00:00+00:00"
    assert describe_schedule(tt) == tt.description
    one = EventsTimetable([dt.datetime(2024, 7, 14, 20, tzinfo=BERLIN)])
    assert (one.summary, one.description) == ("1 event", "1 event at 2024-07-14T20:00:00+02:00")
    named = EventsTimetable(EVENTS, description="Home matches")
    assert named.summary == named.description == describe_schedule(named) == "Home matches"


@pytest.mark.parametrize(
    ("event_dates", "message"),
    [
        ("2024-01-01", "needs a list of datetimes as event_dates, got '2024-01-01'"),
        (utc(2024, 1, 1), "needs a list of datetimes"),
        (42, "needs a list of datetimes"),
        (
            [utc(2024, 1, 1), dt.date(2024, 1, 2)],
            r"event_dates\[1\] is datetime.date\(2024, 1, 2\) \(type date\)",
        ),
        ([utc(2024, 1, 1), "2024-01-02"], r"event_dates\[1\] is '2024-01-02' \(type str\), not a datetime"),
        ([dt.datetime(2024, 1, 1)], r"event_dates\[0\] \(2024-01-01T00:00:00\) has no time zone"),
    ],
)
def test_bad_event_dates_are_refused_clearly(event_dates: Any, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        EventsTimetable(event_dates)


# --- MultipleCronTriggerTimetable -------------------------------------------------------------


def test_the_union_of_several_crons() -> None:
    tt = MultipleCronTriggerTimetable("0 0 * * *", "30 12 * * *", timezone="UTC")
    restriction = TimeRestriction(utc(2024, 1, 1), None, catchup=True)
    infos = runs(tt, restriction, 5)
    assert dates(infos) == [
        utc(2024, 1, 1),
        utc(2024, 1, 1, 12, 30),
        utc(2024, 1, 2),
        utc(2024, 1, 2, 12, 30),
        utc(2024, 1, 3),
    ]
    assert all(i.run_after == i.logical_date == i.data_interval.start == i.data_interval.end for i in infos)


def test_an_instant_two_crons_share_is_one_run() -> None:
    tt = MultipleCronTriggerTimetable("0 * * * *", "*/30 * * * *", timezone="UTC")
    restriction = TimeRestriction(utc(2024, 1, 1), utc(2024, 1, 1, 2), catchup=True)
    assert dates(runs(tt, restriction)) == [
        utc(2024, 1, 1),
        utc(2024, 1, 1, 0, 30),
        utc(2024, 1, 1, 1),
        utc(2024, 1, 1, 1, 30),
        utc(2024, 1, 1, 2),
    ]


def test_crons_are_read_in_the_time_zone_and_the_interval_reaches_back() -> None:
    tt = MultipleCronTriggerTimetable(
        "0 9 * * 1-5", "0 12 * * 0,6", timezone="Europe/Berlin", interval=dt.timedelta(hours=2)
    )
    restriction = TimeRestriction(utc(2024, 6, 7), None, catchup=True)  # a Friday
    infos = runs(tt, restriction, 4)
    local = [i.logical_date.astimezone(BERLIN).strftime("%a %H:%M") for i in infos]
    assert local == ["Fri 09:00", "Sat 12:00", "Sun 12:00", "Mon 09:00"]
    first = infos[0]
    assert first.data_interval == DataInterval(utc(2024, 6, 7, 5), utc(2024, 6, 7, 7))
    assert first.logical_date == first.run_after == utc(2024, 6, 7, 7)
    assert tt.infer_manual_data_interval(run_after=utc(2024, 6, 8, 1)) == DataInterval(
        utc(2024, 6, 7, 23), utc(2024, 6, 8, 1)
    )


def test_without_catchup_the_latest_past_tick_of_any_cron_runs(now: Any) -> None:
    tt = MultipleCronTriggerTimetable("0 0 * * *", "0 12 * * *", timezone="UTC")
    now(utc(2024, 3, 10, 13, 10))
    no_catchup = TimeRestriction(utc(2024, 1, 1), None, catchup=False)
    last = DataInterval.exact(utc(2024, 3, 8))
    info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=no_catchup)
    assert info is not None and info.logical_date == utc(2024, 3, 10, 12)
    # once that has run, the earliest future tick of any of them
    done = DataInterval.exact(utc(2024, 3, 10, 12))
    info = tt.next_dagrun_info(last_automated_data_interval=done, restriction=no_catchup)
    assert info is not None and info.logical_date == utc(2024, 3, 11)
    # with catchup the same state goes on from the last run instead
    catchup = TimeRestriction(utc(2024, 1, 1), None, catchup=True)
    info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=catchup)
    assert info is not None and info.logical_date == utc(2024, 3, 8, 12)


def test_first_run_without_a_start_date_follows_run_immediately(now: Any) -> None:
    now(utc(2024, 3, 10, 13, 10))
    waits = MultipleCronTriggerTimetable("0 0 * * *", "0 18 * * *", timezone="UTC")
    info = waits.next_dagrun_info(last_automated_data_interval=None, restriction=CATCHUP)
    assert info is not None and info.logical_date == utc(2024, 3, 10, 18)
    at_once = MultipleCronTriggerTimetable("0 0 * * *", "0 12 * * *", timezone="UTC", run_immediately=True)
    info = at_once.next_dagrun_info(last_automated_data_interval=None, restriction=CATCHUP)
    assert info is not None and info.logical_date == utc(2024, 3, 10)  # catchup: the earliest first run


def test_multiple_crons_stop_at_the_end_date() -> None:
    tt = MultipleCronTriggerTimetable("0 0 * * *", "0 12 * * *", timezone="UTC")
    restriction = TimeRestriction(utc(2024, 1, 1), utc(2024, 1, 2, 11), catchup=True)
    assert dates(runs(tt, restriction)) == [utc(2024, 1, 1), utc(2024, 1, 1, 12), utc(2024, 1, 2)]


def test_multiple_crons_summary_and_description() -> None:
    tt = MultipleCronTriggerTimetable("0 9 * * 1-5", "@daily", timezone="UTC")
    assert tt.summary == "0 9 * * 1-5, 0 0 * * *"
    assert tt.description == "At 09:00, Monday through Friday; at 00:00 every day"
    assert describe_schedule(tt) == tt.description
    assert [t.summary for t in tt.timetables] == ["0 9 * * 1-5", "0 0 * * *"]


@pytest.mark.parametrize(
    ("crons", "message"),
    [
        ((), "needs at least one cron expression"),
        (("0 0 * * *", "61 * * * *"), r"cron #2: invalid cron expression '61 \* \* \* \*'"),
        (("0 0 31 2 *",), r"cron #1: invalid cron expression '0 0 31 2 \*': it never fires"),
        (
            (["0 0 * * *", "0 12 * * *"],),
            "cron #1 is .* \\(type list\\), not a cron string; pass the crons as",
        ),
    ],
)
def test_bad_crons_are_refused_naming_the_cron(crons: tuple[Any, ...], message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        MultipleCronTriggerTimetable(*crons, timezone="UTC")


def test_a_bad_time_zone_is_refused() -> None:
    with pytest.raises(DagDefinitionError, match="Mars/Olympus"):
        MultipleCronTriggerTimetable("0 0 * * *", timezone="Mars/Olympus")


# --- serialization ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tt",
    [
        EventsTimetable(EVENTS),
        EventsTimetable([dt.datetime(2024, 7, 14, 20, tzinfo=BERLIN)], restrict_to_events=True),
        EventsTimetable(EVENTS, description="Home matches"),
        EventsTimetable([]),
        MultipleCronTriggerTimetable("0 0 * * *", "30 12 * * 1-5", timezone="Europe/Berlin"),
        MultipleCronTriggerTimetable(
            "@hourly",
            "*/20 9-17 * * *",
            timezone="+05:30",
            interval=relativedelta(days=1, hours=3),
            run_immediately=dt.timedelta(minutes=10),
        ),
        MultipleCronTriggerTimetable(
            "0 3 * * *", timezone="UTC", interval=dt.timedelta(hours=1), run_immediately=True
        ),
    ],
    ids=repr,
)
def test_serialize_round_trip(tt: Timetable) -> None:
    data = json.loads(json.dumps(serialize_timetable(tt)))
    assert data["__type"] == f"updraft.sdk.timetables_extra.{type(tt).__name__}"
    back = deserialize_timetable(data)
    assert back == tt and hash(back) == hash(tt)
    assert (back.summary, back.description) == (tt.summary, tt.description)
    restriction = TimeRestriction(utc(2024, 1, 1), None, catchup=True)
    assert runs(back, restriction, 5) == runs(tt, restriction, 5)


def test_events_keep_their_time_zone_offset_through_a_round_trip() -> None:
    tt = EventsTimetable([dt.datetime(2024, 7, 14, 20, tzinfo=BERLIN)])
    data = serialize_timetable(tt)
    assert data["__var"]["event_dates"] == ["2024-07-14T20:00:00+02:00"]
    back = deserialize_timetable(data)
    assert isinstance(back, EventsTimetable) and back.description == tt.description


def test_airflow_class_paths_and_airflow3_forms_are_read() -> None:
    written_by_airflow = {
        "__type": "airflow.timetables.events.EventsTimetable",
        "__var": {
            "event_dates": ["2024-01-05T09:00:00+00:00", "2024-03-01T12:00:00+00:00"],
            "restrict_to_events": True,
            "description": "2 events between 2024-01-05T09:00:00+00:00 and 2024-03-01T12:00:00+00:00",
            "_summary": "2 events",
        },
    }
    tt = deserialize_timetable(written_by_airflow)
    assert isinstance(tt, EventsTimetable) and tt.restrict_to_events and tt.summary == "2 events"
    assert tt.event_dates == [utc(2024, 1, 5, 9), utc(2024, 3, 1, 12)]
    multi = deserialize_timetable(
        {
            "__type": "airflow.timetables.trigger.MultipleCronTriggerTimetable",
            "__var": {"expressions": ["0 0 * * *", "0 12 * * *"], "timezone": "UTC", "interval": 0.0,
                      "run_immediately": False},
        }
    )  # fmt: skip
    assert multi == MultipleCronTriggerTimetable("@daily", "0 12 * * *", timezone="UTC")


def test_a_dag_with_each_timetable_survives_its_stored_form() -> None:
    for schedule in (
        EventsTimetable(EVENTS, restrict_to_events=True),
        MultipleCronTriggerTimetable("0 0 * * *", "0 12 * * *", timezone="Europe/Berlin"),
    ):
        with DAG("tt", schedule=schedule, start_date=utc(2024, 1, 1)) as dag:
            pass
        stored = deserialize_dag(json.loads(json.dumps(serialize_dag(dag))))
        assert stored.timetable == schedule
        assert stored.timetable_summary == schedule.summary
        assert stored.timetable_description == schedule.description


# --- Airflow import paths ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "name", "ours"),
    [
        ("airflow.timetables.events", "EventsTimetable", EventsTimetable),
        ("airflow.timetables.trigger", "MultipleCronTriggerTimetable", MultipleCronTriggerTimetable),
        ("airflow.timetables.trigger", "CronTriggerTimetable", CronTriggerTimetable),
        ("airflow.sdk", "EventsTimetable", EventsTimetable),
        ("airflow.sdk", "MultipleCronTriggerTimetable", MultipleCronTriggerTimetable),
    ],
)
def test_airflow_import_paths(module: str, name: str, ours: type) -> None:
    assert updraft.compat.install()
    assert getattr(importlib.import_module(module), name) is ours


def test_airflow_style_import_statement() -> None:
    assert updraft.compat.install()
    from airflow.timetables.events import EventsTimetable as AirflowEvents

    assert AirflowEvents is EventsTimetable
    assert sys.modules["airflow.timetables.events"].EventsTimetable is EventsTimetable


# --- the real scheduler -----------------------------------------------------------------------


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.mark.slow
def test_the_scheduler_creates_exactly_the_runs_of_each_timetable(env: Env, scheduler: Any) -> None:  # noqa: F811
    current = dt.datetime.now(UTC).replace(microsecond=0)
    events = [current - dt.timedelta(hours=h) for h in (3, 2, 1)]
    future = current + dt.timedelta(days=30)
    hour = current.replace(minute=0, second=0) - dt.timedelta(hours=3)
    env.write_dag(
        "timetables.py",
        f"""
        from datetime import datetime
        from updraft import DAG
        from updraft.operators import EmptyOperator
        from updraft.sdk.timetables_extra import EventsTimetable, MultipleCronTriggerTimetable

        events = [datetime.fromisoformat(t) for t in {[e.isoformat() for e in [*events, future]]!r}]
        with DAG("events", schedule=EventsTimetable(events, restrict_to_events=True), catchup=True,
                 start_date=datetime.fromisoformat({(current - dt.timedelta(days=1)).isoformat()!r})):
            EmptyOperator(task_id="t")

        with DAG("crons", schedule=MultipleCronTriggerTimetable("0 * * * *", "*/30 * * * *", timezone="UTC"),
                 catchup=True, start_date=datetime.fromisoformat({hour.isoformat()!r}),
                 end_date=datetime.fromisoformat({(hour + dt.timedelta(minutes=90)).isoformat()!r})):
            EmptyOperator(task_id="t")
        """,
    )
    env.store()
    env.unpause("events")
    env.unpause("crons")
    process = scheduler()

    def finished(dag_id: str, count: int) -> bool:
        return len([r for r in env.runs(dag_id) if r.state == "success"]) == count

    wait_for(lambda: finished("events", 3) and finished("crons", 4), 60, what="the scheduled runs")
    manual = env.trigger("events")
    assert env.wait_run("events", manual) == "success", process.output()
    time.sleep(1)  # time for a wrong extra run to appear
    process.stop()

    scheduled = [r for r in env.runs("events") if r.run_type == "scheduled"]
    assert [_aware(r.logical_date) for r in scheduled] == events
    assert all(
        _aware(r.data_interval_start) == _aware(r.data_interval_end) == _aware(r.logical_date)
        for r in scheduled
    )
    [by_hand] = [r for r in env.runs("events") if r.run_type == "manual"]
    assert _aware(by_hand.data_interval_start) == _aware(by_hand.data_interval_end) == events[-1]

    crons = env.runs("crons")
    ticks = [hour + dt.timedelta(minutes=m) for m in (0, 30, 60, 90)]
    assert [_aware(r.logical_date) for r in crons] == ticks
    assert all(
        r.run_type == "scheduled" and _aware(r.data_interval_end) == _aware(r.logical_date) for r in crons
    )
