"""Airflow's two less common built-in timetables: a fixed list of events, and several crons at once.

``EventsTimetable`` runs at listed instants only (Airflow's ``airflow.timetables.events``);
``MultipleCronTriggerTimetable`` is the union of several cron trigger schedules (Airflow 3's
``airflow.timetables.trigger``). They sit next to ``updraft.sdk.timetables`` rather than in it to
keep that module to one size; ``deserialize_timetable`` finds them by their class path, under
both their Updraft and their Airflow module names.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from updraft.sdk import timetables as base  # its clock and UTC helper, shared
from updraft.sdk.exceptions import DagDefinitionError
from updraft.sdk.timetables import (
    ComparedBySerializedForm,
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    describe_cron,
)

if TYPE_CHECKING:
    from dateutil.relativedelta import relativedelta

UTC = dt.timezone.utc


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


class EventsTimetable(ComparedBySerializedForm):
    """A run at each of a finite list of instants, e.g. match days or public holidays.

    Each run covers exactly its event: logical date, data interval start and end are the event.
    With ``catchup=False`` only events after the moment the scheduler looks are run; with
    catchup, every event from the DAG's start date on. The end date is respected either way.

    ``event_dates`` must be time-zone-aware datetimes (``pendulum.datetime(...)`` or
    ``datetime(..., tzinfo=...)``); the same instant listed twice is one event. An empty list is
    allowed and never runs. ``presorted`` is accepted for Airflow's sake: the events are always
    sorted, which costs next to nothing when they already are.

    A manual run covers the moment it was triggered for, or with ``restrict_to_events=True`` the
    latest event at or before that moment (the first event if all are later).

    ``description`` replaces the default label ("3 events") in the UI.
    """

    def __init__(
        self,
        event_dates: Iterable[dt.datetime],
        restrict_to_events: bool = False,
        presorted: bool = False,
        description: str | None = None,
    ) -> None:
        self.event_dates = _checked_events(event_dates)
        self.restrict_to_events = bool(restrict_to_events)
        self._description = description
        events = self.event_dates
        if description is not None:
            self._summary = self.description = description
        elif not events:
            self._summary = self.description = "No events"
        else:
            self._summary = _plural(len(events), "event")
            first, last = events[0].isoformat(), events[-1].isoformat()
            where = f"at {first}" if len(events) == 1 else f"between {first} and {last}"
            self.description = f"{self._summary} {where}"
        self._instants = [event.astimezone(UTC) for event in events]  # what the scheduler is given

    @property
    def summary(self) -> str:
        return self._summary

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        instants = self._instants
        earliest = restriction.earliest
        if not restriction.catchup:  # only what is still to come
            now = base._utcnow()
            earliest = now if earliest is None else max(base._to_utc(earliest), now)
        index = 0 if earliest is None else bisect.bisect_left(instants, base._to_utc(earliest))
        if last_automated_data_interval is not None:
            after_last = bisect.bisect_right(instants, base._to_utc(last_automated_data_interval.end))
            index = max(index, after_last)
        if index >= len(instants):
            return None
        event = instants[index]
        if restriction.latest is not None and event > base._to_utc(restriction.latest):
            return None
        return DagRunInfo.exact(event)

    def infer_manual_data_interval(self, *, run_after: dt.datetime) -> DataInterval:
        at = base._to_utc(run_after)
        if not self.restrict_to_events or not self._instants:
            return DataInterval.exact(at)
        index = bisect.bisect_right(self._instants, at) - 1  # the latest event at or before ``at``
        return DataInterval.exact(self._instants[max(index, 0)])

    def serialize(self) -> dict[str, Any]:
        # the same keys as Airflow 3 writes, so either side can read the other's form
        return {
            "event_dates": [event.isoformat() for event in self.event_dates],
            "restrict_to_events": self.restrict_to_events,
            "description": self._description,
            "_summary": self._summary,
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        try:
            events = [dt.datetime.fromisoformat(text) for text in data["event_dates"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise DagDefinitionError(f"EventsTimetable: stored event dates are unreadable: {exc}") from None
        timetable = cls(
            events, bool(data.get("restrict_to_events")), presorted=True, description=data.get("description")
        )
        if data.get("description") is not None and data.get("_summary"):  # Airflow 3 stores both
            timetable._summary = str(data["_summary"])
        return timetable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary!r}, restrict_to_events={self.restrict_to_events})"


def _checked_events(event_dates: Iterable[dt.datetime]) -> list[dt.datetime]:
    """The events sorted by instant, each instant once; a clear error for anything else."""
    if isinstance(event_dates, (str, bytes, dt.datetime)) or not isinstance(event_dates, Iterable):
        raise DagDefinitionError(
            f"EventsTimetable needs a list of datetimes as event_dates, got {event_dates!r} "
            f"(type {type(event_dates).__name__})"
        )
    seen: dict[dt.datetime, dt.datetime] = {}
    for index, event in enumerate(event_dates):
        if not isinstance(event, dt.datetime):
            raise DagDefinitionError(
                f"EventsTimetable: event_dates[{index}] is {event!r} (type {type(event).__name__}), "
                "not a datetime"
            )
        if event.tzinfo is None or event.utcoffset() is None:
            raise DagDefinitionError(
                f"EventsTimetable: event_dates[{index}] ({event.isoformat()}) has no time zone: give "
                "it one, e.g. pendulum.datetime(2025, 1, 1, tz='UTC') or datetime(..., tzinfo=timezone.utc)"
            )
        seen.setdefault(event.astimezone(UTC), event)
    return [seen[instant] for instant in sorted(seen)]


class MultipleCronTriggerTimetable(ComparedBySerializedForm):
    """Runs at every tick of any of several crons, e.g. 09:00 on weekdays and 12:00 at weekends.

    It behaves as one ``CronTriggerTimetable`` per expression (sharing ``timezone``, ``interval``
    and ``run_immediately``) merged into one sequence: each run is the earliest next tick of any
    of them, and an instant that two crons share is one run. Without catchup it runs the latest
    tick of any of them that is not in the future, as a single cron trigger schedule does.
    """

    def __init__(
        self,
        *crons: str,
        timezone: str | dt.tzinfo = "UTC",
        interval: dt.timedelta | relativedelta = dt.timedelta(0),
        run_immediately: bool | dt.timedelta | None = False,
    ) -> None:
        if not crons:
            raise DagDefinitionError(
                "MultipleCronTriggerTimetable needs at least one cron expression, e.g. "
                "MultipleCronTriggerTimetable('0 9 * * 1-5', '0 12 * * 0,6', timezone='UTC')"
            )
        timetables = []
        for index, cron in enumerate(crons):
            if not isinstance(cron, str):
                raise DagDefinitionError(
                    f"MultipleCronTriggerTimetable: cron #{index + 1} is {cron!r} (type "
                    f"{type(cron).__name__}), not a cron string; pass the crons as separate arguments"
                )
            try:
                timetables.append(
                    CronTriggerTimetable(cron, timezone, interval=interval, run_immediately=run_immediately)
                )
            except DagDefinitionError as exc:
                raise DagDefinitionError(f"MultipleCronTriggerTimetable, cron #{index + 1}: {exc}") from None
        self._adopt(timetables)

    def _adopt(self, timetables: list[CronTriggerTimetable]) -> None:
        self._timetables = timetables
        descriptions = [describe_cron(t.summary) for t in timetables]
        self.description = "; ".join(
            [descriptions[0], *(text[:1].lower() + text[1:] for text in descriptions[1:])]
        )

    @property
    def summary(self) -> str:
        return ", ".join(t.summary for t in self._timetables)

    @property
    def timetables(self) -> list[CronTriggerTimetable]:
        """One cron trigger timetable per expression, in the order given."""
        return list(self._timetables)

    def validate(self) -> None:
        for timetable in self._timetables:
            timetable.validate()

    def infer_manual_data_interval(self, *, run_after: dt.datetime) -> DataInterval:
        # every cron shares the interval, so each one gives the same answer
        return self._timetables[0].infer_manual_data_interval(run_after=run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        infos = [
            t.next_dagrun_info(
                last_automated_data_interval=last_automated_data_interval, restriction=restriction
            )
            for t in self._timetables
        ]
        now = None if restriction.catchup else base._utcnow().timestamp()

        def rank(info: DagRunInfo | None) -> float:
            """Catchup: the earliest tick. Otherwise the latest tick not in the future, and only
            if every tick is in the future, the earliest of those."""
            if info is None:
                return math.inf
            stamp = info.logical_date.timestamp()
            return -stamp if now is not None and stamp <= now else stamp

        return min(infos, key=rank)

    def serialize(self) -> dict[str, Any]:
        # the shared settings read from the first cron's own form; Airflow 3's keys
        shared = {k: v for k, v in self._timetables[0].serialize().items() if k != "expression"}
        return {"expressions": [t.summary for t in self._timetables], **shared}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        shared = {k: v for k, v in data.items() if k != "expressions"}
        expressions = data.get("expressions")
        if not isinstance(expressions, list) or not expressions:
            raise DagDefinitionError(f"MultipleCronTriggerTimetable: no cron expressions stored in {data!r}")
        timetables = [CronTriggerTimetable.deserialize({"expression": e, **shared}) for e in expressions]
        timetable = cls.__new__(cls)
        timetable._adopt([t for t in timetables if isinstance(t, CronTriggerTimetable)])
        return timetable

    def __repr__(self) -> str:
        args = ", ".join(repr(t.summary) for t in self._timetables)
        return f"{type(self).__name__}({args}, timezone={self._timetables[0].serialize()['timezone']!r})"


__all__ = ["EventsTimetable", "MultipleCronTriggerTimetable"]
