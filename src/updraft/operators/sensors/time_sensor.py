"""``TimeSensor``: wait until a time of day, in the DAG's time zone, on the day the wait starts.

As in Airflow, the target is that time on the date the sensor starts waiting: a sensor that
starts after the time has passed succeeds at its first poke, and one waiting for 23:30 that
starts at 22:00 does not roll over to the next day after midnight. In ``mode="reschedule"`` the
day is the one of the try's first poke. ``TimeSensorAsync`` is Airflow's deferrable spelling.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from updraft.operators.sensors.base import BaseSensorOperator
from updraft.sdk.runtime_services import get_services
from updraft.sdk.settings import settings

__all__ = ["TimeSensor", "TimeSensorAsync", "target_moment"]


def target_moment(target_time: time, started: datetime, tz: Any) -> datetime:
    """``target_time`` on the date ``started`` has in ``tz`` (or in the time's own zone), in UTC."""
    zone = target_time.tzinfo or tz
    day = started.astimezone(zone).date()
    return datetime.combine(day, target_time.replace(tzinfo=None), zone).astimezone(timezone.utc)


class TimeSensor(BaseSensorOperator):
    """Succeed once ``target_time`` (a ``datetime.time``) of the current day has passed.

    A naive ``target_time`` is in the DAG's time zone (``timezone`` of the DAG's start date, else
    ``[core] default_timezone``); an aware one keeps its own zone.
    """

    def __init__(
        self,
        *,
        target_time: time,
        start_from_trigger: bool = False,
        end_from_trigger: bool = False,
        trigger_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(target_time, time):
            raise TypeError(
                f"sensor {self.task_id!r}: target_time must be a datetime.time (e.g. time(6, 30)), "
                f"got {type(target_time).__name__} {target_time!r}"
            )
        self.target_time = target_time
        self.start_from_trigger = start_from_trigger  # trigger options: accepted, no effect
        self.end_from_trigger = end_from_trigger
        self._target: datetime | None = None

    def _timezone(self) -> Any:
        dag = self.dag if self.has_dag() else None
        return getattr(dag, "timezone", None) or settings.default_timezone

    def _wait_started(self, context: Any) -> datetime:
        now = datetime.now(timezone.utc)
        if not self.reschedule:
            return now
        ti = context["ti"]
        first = get_services().first_reschedule_start(
            ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number
        )
        return first or now

    def execute(self, context: Any) -> Any:
        self._target = target_moment(self.target_time, self._wait_started(context), self._timezone())
        return super().execute(context)

    @property
    def target_datetime(self) -> datetime | None:
        """The moment waited for (UTC), known once the sensor runs."""
        return self._target

    def poke(self, context: Any) -> bool:
        if self._target is None:  # poke() called on its own
            self._target = target_moment(self.target_time, datetime.now(timezone.utc), self._timezone())
        self.log.info("Checking whether the time (%s) has come", self._target.isoformat())
        return datetime.now(timezone.utc) > self._target


class TimeSensorAsync(TimeSensor):
    """Airflow's deferrable ``TimeSensor``: the same wait, done by poking."""

    def __init__(self, *, target_time: time, **kwargs: Any) -> None:
        kwargs.setdefault("deferrable", True)
        super().__init__(target_time=target_time, **kwargs)
