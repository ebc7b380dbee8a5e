"""Timetables: run sequences, data intervals, catchup, DST, presets, errors and round trips."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dateutil.relativedelta import MO, relativedelta

from tests.sdk.timetable_helpers import UTC, utc
from updraft.sdk.exceptions import DagDefinitionError
from updraft.sdk.timetables import (
    ContinuousTimetable,
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    DeltaDataIntervalTimetable,
    DeltaTriggerTimetable,
    NullTimetable,
    OnceTimetable,
    TimeRestriction,
    Timetable,
    create_timetable,
    describe_cron,
    describe_schedule,
    deserialize_timetable,
    serialize_timetable,
)


def runs(tt: Timetable, restriction: TimeRestriction, count: int) -> list[DagRunInfo | None]:
    """The next ``count`` answers, feeding each run's interval back in as the scheduler does."""
    out: list[DagRunInfo | None] = []
    last = None
    for _ in range(count):
        info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        out.append(info)
        if info is None:
            break
        last = info.data_interval
    return out


def intervals(
    tt: Timetable, restriction: TimeRestriction, count: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(i.data_interval.start, i.data_interval.end) for i in runs(tt, restriction, count) if i]


# --- data-interval timetables (Airflow 2 style) -----------------------------------------------


def test_cron_data_intervals_catch_up_from_the_start_date() -> None:
    tt = CronDataIntervalTimetable("@daily", "UTC")
    infos = runs(tt, TimeRestriction(utc(2024, 1, 1), None, catchup=True), 3)
    assert [(i.data_interval.start, i.data_interval.end) for i in infos if i] == [
        (utc(2024, 1, 1), utc(2024, 1, 2)),
        (utc(2024, 1, 2), utc(2024, 1, 3)),
        (utc(2024, 1, 3), utc(2024, 1, 4)),
    ]
    first = infos[0]
    assert first is not None
    assert first.run_after == utc(2024, 1, 2)  # a run starts once its interval has ended
    assert first.logical_date == utc(2024, 1, 1)


def test_unaligned_start_date_begins_at_the_next_tick() -> None:
    tt = CronDataIntervalTimetable("0 0 * * *", "UTC")
    got = intervals(tt, TimeRestriction(utc(2024, 1, 1, 10), None, catchup=True), 1)
    assert got == [(utc(2024, 1, 2), utc(2024, 1, 3))]


def test_no_start_date_means_no_automated_run_with_catchup() -> None:
    tt = CronDataIntervalTimetable("@daily", "UTC")
    assert (
        tt.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(None, None, True))
        is None
    )


def test_end_date_stops_scheduling() -> None:
    tt = CronDataIntervalTimetable("@daily", "UTC")
    infos = runs(tt, TimeRestriction(utc(2024, 1, 1), utc(2024, 1, 2), catchup=True), 5)
    assert [i.logical_date for i in infos if i] == [utc(2024, 1, 1), utc(2024, 1, 2)]
    assert infos[-1] is None


def test_catchup_false_picks_the_latest_complete_interval(now: Any) -> None:
    now(utc(2024, 5, 10, 15))
    tt = CronDataIntervalTimetable("@daily", "UTC")
    old_run = DataInterval(utc(2024, 1, 1), utc(2024, 1, 2))
    for last in (None, old_run):
        info = tt.next_dagrun_info(
            last_automated_data_interval=last, restriction=TimeRestriction(utc(2024, 1, 1), None, False)
        )
        assert info == DagRunInfo.interval(utc(2024, 5, 9), utc(2024, 5, 10))


def test_catchup_false_with_a_future_start_date_waits_for_it(now: Any) -> None:
    now(utc(2024, 5, 10, 15))
    tt = CronDataIntervalTimetable("@daily", "UTC")
    info = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc(2024, 6, 1, 12), None, False)
    )
    assert info == DagRunInfo.interval(utc(2024, 6, 2), utc(2024, 6, 3))


def test_a_zero_length_last_interval_does_not_repeat_its_date() -> None:
    # e.g. the DAG ran under CronTriggerTimetable before switching to data intervals
    tt = CronDataIntervalTimetable("0 17 * * *", "UTC")
    last = DataInterval.exact(utc(2021, 9, 5, 17))
    info = tt.next_dagrun_info(
        last_automated_data_interval=last, restriction=TimeRestriction(None, None, True)
    )
    assert info == DagRunInfo.interval(utc(2021, 9, 6, 17), utc(2021, 9, 7, 17))


def test_delta_data_intervals() -> None:
    tt = DeltaDataIntervalTimetable(dt.timedelta(hours=6))
    got = intervals(tt, TimeRestriction(utc(2024, 1, 1, 1), None, catchup=True), 2)
    assert got == [(utc(2024, 1, 1, 1), utc(2024, 1, 1, 7)), (utc(2024, 1, 1, 7), utc(2024, 1, 1, 13))]


def test_delta_catchup_false_aligns_to_the_clock(now: Any) -> None:
    now(utc(2024, 2, 1, 1, 5))
    tt = DeltaDataIntervalTimetable(dt.timedelta(minutes=30))
    info = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc(2024, 2, 1), None, False)
    )
    assert info == DagRunInfo.interval(utc(2024, 2, 1, 0, 30), utc(2024, 2, 1, 1))


def test_monthly_relativedelta_catchup_false_stays_on_the_start_date_day(now: Any) -> None:
    now(utc(2026, 6, 29))
    tt = DeltaDataIntervalTimetable(relativedelta(months=1))
    info = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc(2025, 1, 15), None, False)
    )
    assert info == DagRunInfo.interval(utc(2026, 5, 15), utc(2026, 6, 15))


# --- trigger timetables (Airflow 3 default) ---------------------------------------------------


def test_cron_trigger_runs_at_each_tick_with_a_point_interval() -> None:
    tt = CronTriggerTimetable("0 2 * * *", "UTC")
    infos = [i for i in runs(tt, TimeRestriction(utc(2024, 1, 1), None, catchup=True), 3) if i]
    assert [i.run_after for i in infos] == [utc(2024, 1, 1, 2), utc(2024, 1, 2, 2), utc(2024, 1, 3, 2)]
    for info in infos:
        assert info.logical_date == info.run_after
        assert info.data_interval == DataInterval.exact(info.run_after)


def test_cron_trigger_with_an_interval_ends_the_data_interval_at_the_trigger() -> None:
    tt = CronTriggerTimetable("0 18 * * 5", "UTC", interval=dt.timedelta(days=4, hours=9))
    info = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc(2024, 3, 1), None, True)
    )
    assert info is not None
    assert info.run_after == info.logical_date == utc(2024, 3, 1, 18)
    assert info.data_interval == DataInterval(utc(2024, 2, 26, 9), utc(2024, 3, 1, 18))


def test_cron_trigger_catchup_false_runs_the_latest_past_tick(now: Any) -> None:
    now(utc(2024, 5, 10, 15))
    tt = CronTriggerTimetable("@daily", "UTC")
    restriction = TimeRestriction(utc(2024, 1, 1), None, False)
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None and info.run_after == utc(2024, 5, 10)
    after = tt.next_dagrun_info(last_automated_data_interval=info.data_interval, restriction=restriction)
    assert after is not None and after.run_after == utc(2024, 5, 11)


@pytest.mark.parametrize(
    ("clock", "expected"),
    [(utc(2024, 5, 10, 0, 3), utc(2024, 5, 10)), (utc(2024, 5, 10, 12), utc(2024, 5, 11))],
    ids=["just-after-a-tick", "mid-period"],
)
def test_cron_trigger_without_start_date_runs_a_just_missed_tick(
    now: Any, clock: dt.datetime, expected: Any
) -> None:
    now(clock)
    tt = CronTriggerTimetable("@daily", "UTC")
    info = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(None, None, True)
    )
    assert info is not None and info.run_after == expected


def test_cron_trigger_end_date_is_inclusive() -> None:
    tt = CronTriggerTimetable("@daily", "UTC")
    infos = runs(tt, TimeRestriction(utc(2024, 1, 1), utc(2024, 1, 3), True), 5)
    assert [i.run_after for i in infos if i] == [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)]


def test_delta_trigger_runs_every_delta_from_the_start_date() -> None:
    tt = DeltaTriggerTimetable(dt.timedelta(minutes=45))
    infos = runs(tt, TimeRestriction(utc(2024, 1, 1, 10), None, True), 3)
    assert [i.run_after for i in infos if i] == [
        utc(2024, 1, 1, 10),
        utc(2024, 1, 1, 10, 45),
        utc(2024, 1, 1, 11, 30),
    ]


# --- DST --------------------------------------------------------------------------------------


def test_berlin_entering_dst_the_skipped_2am_runs_right_after_the_gap() -> None:
    tt = CronDataIntervalTimetable("0 2 * * *", "Europe/Berlin")  # 2024-03-31 02:00 does not exist
    got = intervals(tt, TimeRestriction(utc(2024, 3, 29), None, True), 3)
    assert got == [
        (utc(2024, 3, 29, 1), utc(2024, 3, 30, 1)),
        (utc(2024, 3, 30, 1), utc(2024, 3, 31, 1)),  # 03:00 CEST, the first instant after the gap
        (utc(2024, 3, 31, 1), utc(2024, 4, 1, 0)),  # 02:00 CEST: a 23-hour interval
    ]


def test_berlin_leaving_dst_the_repeated_2am_runs_once_at_its_second_occurrence() -> None:
    tt = CronDataIntervalTimetable("0 2 * * *", "Europe/Berlin")  # 2024-10-27 02:00 happens twice
    got = intervals(tt, TimeRestriction(utc(2024, 10, 25), None, True), 3)
    assert got == [
        (utc(2024, 10, 25, 0), utc(2024, 10, 26, 0)),
        (utc(2024, 10, 26, 0), utc(2024, 10, 27, 1)),  # 02:00 CET, a 25-hour interval
        (utc(2024, 10, 27, 1), utc(2024, 10, 28, 1)),
    ]


def test_new_york_trigger_times_follow_local_time_both_ways() -> None:
    tt = CronTriggerTimetable("30 9 * * *", "America/New_York")
    spring = [i.run_after for i in runs(tt, TimeRestriction(utc(2024, 3, 9), None, True), 2) if i]
    assert spring == [utc(2024, 3, 9, 14, 30), utc(2024, 3, 10, 13, 30)]
    autumn = [i.run_after for i in runs(tt, TimeRestriction(utc(2024, 11, 2), None, True), 2) if i]
    assert autumn == [utc(2024, 11, 2, 13, 30), utc(2024, 11, 3, 14, 30)]


def test_hourly_cron_runs_both_repeated_hours_when_leaving_dst() -> None:
    tt = CronTriggerTimetable("30 * * * *", "Europe/Berlin")
    got = [i.run_after for i in runs(tt, TimeRestriction(utc(2024, 10, 26, 23), None, True), 4) if i]
    # 00:30Z is 02:30 CEST and 01:30Z is 02:30 CET: the wall clock shows 02:30 twice, both run
    assert got == [
        utc(2024, 10, 26, 23, 30),
        utc(2024, 10, 27, 0, 30),
        utc(2024, 10, 27, 1, 30),
        utc(2024, 10, 27, 2, 30),
    ]


def test_manual_interval_on_a_dst_gap_day_is_not_empty_nor_in_the_future() -> None:
    tt = CronDataIntervalTimetable("0 2 * * *", "America/New_York")
    interval = tt.infer_manual_data_interval(run_after=utc(2024, 3, 10, 7, 30))
    assert interval == DataInterval(utc(2024, 3, 9, 7), utc(2024, 3, 10, 7))
    fold = CronDataIntervalTimetable("0 1 * * *", "America/New_York")
    interval = fold.infer_manual_data_interval(run_after=utc(2024, 11, 3, 5, 30))  # 01:30 EDT
    assert interval == DataInterval(utc(2024, 11, 1, 5), utc(2024, 11, 2, 5))


def test_returned_datetimes_are_utc() -> None:
    tt = CronTriggerTimetable("0 8 * * *", "Asia/Tokyo")
    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(
            dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=9))), None, True
        ),
    )
    assert info is not None
    assert info.run_after == utc(2023, 12, 31, 23) and info.run_after.tzinfo is UTC


# --- manual runs, once, continuous, null ------------------------------------------------------


@pytest.mark.parametrize(
    ("tt", "run_after", "expected"),
    [
        (CronDataIntervalTimetable("@daily", "UTC"), utc(2022, 8, 8, 1), (utc(2022, 8, 7), utc(2022, 8, 8))),
        (CronDataIntervalTimetable("@daily", "UTC"), utc(2022, 8, 8), (utc(2022, 8, 7), utc(2022, 8, 8))),
        (CronTriggerTimetable("@daily", "UTC"), utc(2022, 8, 8, 1), (utc(2022, 8, 8, 1), utc(2022, 8, 8, 1))),
        (
            CronTriggerTimetable("@daily", "UTC", interval=dt.timedelta(hours=2)),
            utc(2022, 8, 8, 1),
            (utc(2022, 8, 7, 23), utc(2022, 8, 8, 1)),
        ),
        (
            DeltaDataIntervalTimetable(dt.timedelta(hours=1)),
            utc(2022, 8, 8, 1),
            (utc(2022, 8, 8), utc(2022, 8, 8, 1)),
        ),
        (NullTimetable(), utc(2022, 8, 8, 1), (utc(2022, 8, 8, 1), utc(2022, 8, 8, 1))),
    ],
    ids=["cron-interval", "cron-interval-on-tick", "cron-trigger", "cron-trigger-interval", "delta", "null"],
)
def test_manual_data_interval(tt: Timetable, run_after: dt.datetime, expected: tuple[Any, Any]) -> None:
    interval = tt.infer_manual_data_interval(run_after=run_after)
    assert (interval.start, interval.end) == expected


def test_null_timetable_never_schedules() -> None:
    tt = NullTimetable()
    assert not tt.can_be_scheduled
    assert (
        tt.next_dagrun_info(
            last_automated_data_interval=None, restriction=TimeRestriction(utc(2024, 1, 1), None, True)
        )
        is None
    )


def test_once_runs_once_at_the_start_date() -> None:
    restriction = TimeRestriction(utc(2024, 1, 1), None, catchup=False)
    infos = runs(OnceTimetable(), restriction, 3)
    assert infos == [DagRunInfo.exact(utc(2024, 1, 1)), None]
    assert runs(OnceTimetable(), TimeRestriction(utc(2024, 1, 2), utc(2024, 1, 1), True), 1) == [None]


def test_continuous_runs_back_to_back(now: Any) -> None:
    tt = ContinuousTimetable()
    now(utc(2024, 1, 5))
    restriction = TimeRestriction(utc(2024, 1, 1), None, False)
    first = tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert first == DagRunInfo.interval(utc(2024, 1, 1), utc(2024, 1, 5))
    now(utc(2024, 1, 5, 0, 10))
    second = tt.next_dagrun_info(last_automated_data_interval=first.data_interval, restriction=restriction)  # type: ignore[union-attr]
    assert second == DagRunInfo.interval(utc(2024, 1, 5), utc(2024, 1, 5, 0, 10))
    assert tt.active_runs_limit == 1


# --- schedule= argument -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "cron"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@quarterly", "0 0 1 */3 *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
    ],
)
def test_presets_map_to_airflow_crons(preset: str, cron: str) -> None:
    tt = create_timetable(preset)
    assert isinstance(tt, CronTriggerTimetable)
    assert tt.summary == cron


def test_create_timetable_picks_the_airflow_3_defaults() -> None:
    assert isinstance(create_timetable(None), NullTimetable)
    assert isinstance(create_timetable("@once"), OnceTimetable)
    assert isinstance(create_timetable("@continuous"), ContinuousTimetable)
    assert isinstance(create_timetable("*/5 * * * *"), CronTriggerTimetable)
    assert isinstance(create_timetable(dt.timedelta(hours=1)), DeltaTriggerTimetable)
    assert isinstance(create_timetable(relativedelta(months=1)), DeltaTriggerTimetable)
    custom = CronDataIntervalTimetable("@daily")
    assert create_timetable(custom) is custom


def test_create_timetable_can_make_data_interval_timetables() -> None:
    tt = create_timetable("@daily", timezone="Europe/Berlin", create_cron_data_intervals=True)
    assert tt == CronDataIntervalTimetable("0 0 * * *", "Europe/Berlin")
    assert isinstance(
        create_timetable(dt.timedelta(days=1), create_delta_data_intervals=True), DeltaDataIntervalTimetable
    )


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("61 * * * *", "invalid cron expression '61 * * * *': "),
        ("0 0 31 2 *", "invalid cron expression '0 0 31 2 *': it never fires"),
        ("not a cron", "invalid cron expression 'not a cron': "),
        ("@fortnightly", "unknown schedule preset '@fortnightly'"),
        (dt.timedelta(0), "schedule interval must be positive"),
        (relativedelta(days=-1), "schedule interval must be positive"),
        (42, "invalid schedule 42 (type int): expected None, a cron string"),
        (["@daily"], "invalid schedule ['@daily'] (type list)"),
    ],
)
def test_invalid_schedules_are_reported(schedule: object, message: str) -> None:
    with pytest.raises(DagDefinitionError) as err:
        create_timetable(schedule)
    assert str(err.value).startswith(message)


def test_unknown_time_zone_is_reported() -> None:
    with pytest.raises(DagDefinitionError, match="unknown time zone 'Mars/Olympus'"):
        create_timetable("@daily", timezone="Mars/Olympus")


# --- serialized form --------------------------------------------------------------------------


class EveryMonday(Timetable):
    """A user timetable, found again by its import path."""

    def __init__(self, hour: int = 0) -> None:
        self.hour = hour

    def serialize(self) -> dict[str, Any]:
        return {"hour": self.hour}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(data["hour"])


@pytest.mark.parametrize(
    "tt",
    [
        NullTimetable(),
        OnceTimetable(),
        ContinuousTimetable(),
        CronDataIntervalTimetable("30 4 * * 1-5", "Europe/Berlin"),
        CronTriggerTimetable("@hourly", "+05:30", interval=dt.timedelta(minutes=90), run_immediately=True),
        CronTriggerTimetable("0 3 * * *", "America/New_York", run_immediately=dt.timedelta(minutes=10)),
        DeltaDataIntervalTimetable(dt.timedelta(hours=1, microseconds=5)),
        DeltaDataIntervalTimetable(relativedelta(months=1, weekday=MO(-1))),
        DeltaTriggerTimetable(dt.timedelta(days=2), interval=relativedelta(days=1, hours=3)),
    ],
    ids=repr,
)
def test_serialize_round_trip(tt: Timetable) -> None:
    data = serialize_timetable(tt)
    assert data["__type"] == f"updraft.sdk.timetables.{type(tt).__name__}"
    back = deserialize_timetable(data)
    assert back == tt
    assert back.summary == tt.summary


def test_user_timetables_are_imported_by_path() -> None:
    data = serialize_timetable(EveryMonday(7))
    assert data == {"__type": "tests.sdk.test_timetables.EveryMonday", "__var": {"hour": 7}}
    back = deserialize_timetable(data)
    assert isinstance(back, EveryMonday) and back.hour == 7


def test_airflow_class_paths_map_to_the_built_ins() -> None:
    data = {
        "__type": "airflow.timetables.interval.CronDataIntervalTimetable",
        "__var": {"expression": "0 * * * *", "timezone": "UTC"},
    }
    assert deserialize_timetable(data) == CronDataIntervalTimetable("@hourly", "UTC")


@pytest.mark.parametrize("path", ["no.such.module.Thing", "datetime.timedelta"])
def test_deserialize_rejects_what_is_not_a_timetable(path: str) -> None:
    with pytest.raises(DagDefinitionError):
        deserialize_timetable({"__type": path, "__var": {}})


# --- descriptions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (None, "Manual only"),
        ("@once", "Once"),
        ("@hourly", "Every hour"),
        ("@daily", "At 00:00 every day"),
        ("0 2 * * *", "At 02:00 every day"),
        ("*/30 * * * *", "Every 30 minutes"),
        ("* * * * *", "Every minute"),
        ("15 */6 * * *", "Every 6 hours at minute 15"),
        ("30 6 * * 1-5", "At 06:30, Monday through Friday"),
        ("0 9,17 * * *", "At 09:00 and 17:00 every day"),
        ("@weekly", "At 00:00 on Sunday"),
        ("@monthly", "At 00:00 on day 1 of the month"),
        ("0 0 1 */3 *", "0 0 1 */3 *"),  # unusual: the cron itself
        (dt.timedelta(minutes=30), "Every 30 minutes"),
        (dt.timedelta(hours=1), "Every hour"),
        (dt.timedelta(days=1, hours=2), "Every 1 day and 2 hours"),
        (relativedelta(months=1), "Every month"),
    ],
)
def test_describe_schedule(schedule: object, text: str) -> None:
    assert describe_schedule(create_timetable(schedule)) == text


def test_cron_timetables_carry_their_description() -> None:
    assert CronTriggerTimetable("0 2 * * *").description == "At 02:00 every day"
    assert describe_cron("5 4 * * sun") == "5 4 * * sun"
