"""``DayOfWeekSensor``: wait until today (or the run's logical date) is one of the given weekdays."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any

from updraft.operators.sensors.base import BaseSensorOperator

__all__ = ["DayOfWeekSensor", "WeekDay"]


class WeekDay(IntEnum):
    """ISO weekday numbers, as Airflow's ``airflow.utils.weekday.WeekDay``."""

    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7

    @classmethod
    def get_weekday_number(cls, week_day_str: str) -> int:
        """The ISO number of a weekday name (any case)."""
        try:
            return cls[week_day_str.strip().upper()].value
        except KeyError:
            raise AttributeError(f"Invalid Week Day passed: {week_day_str!r}") from None

    @classmethod
    def convert(cls, day: str | WeekDay) -> int:
        return day.value if isinstance(day, WeekDay) else cls.get_weekday_number(day)

    @classmethod
    def validate_week_day(cls, week_day: str | WeekDay | Iterable[str | WeekDay]) -> set[int]:
        """The ISO numbers of a weekday name, a WeekDay, or a collection of them."""
        if isinstance(week_day, (str, WeekDay)):
            return {cls.convert(week_day)}
        if isinstance(week_day, Iterable):
            return {cls.convert(day) for day in week_day}
        raise TypeError(
            f"week_day must be a weekday name, a WeekDay or a collection of them, not {type(week_day).__name__}"
        )


class DayOfWeekSensor(BaseSensorOperator):
    """Succeed on the given weekday(s): by the current UTC date, or by the run's logical date
    when ``use_task_logical_date`` is set (useful for backfills)."""

    def __init__(
        self,
        *,
        week_day: str | WeekDay | Iterable[str | WeekDay],
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        try:
            self._week_day_num = WeekDay.validate_week_day(week_day)
        except (AttributeError, TypeError) as exc:
            raise ValueError(f"sensor {self.task_id!r}: {exc}") from None
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date

    def poke(self, context: Any) -> bool:
        if self.use_task_logical_date:
            day = context["logical_date"].isoweekday()
        else:
            day = datetime.now(timezone.utc).isoweekday()
        self.log.info(
            "Poking until the weekday is in %s; it is %s", sorted(self._week_day_num), WeekDay(day).name
        )
        return day in self._week_day_num
