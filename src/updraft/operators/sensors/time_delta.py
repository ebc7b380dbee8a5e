"""``TimeDeltaSensor``: wait until a time span has passed after the run's data interval ends.

``WaitSensor`` waits a time span from the task's start instead. ``TimeDeltaSensorAsync`` is
Airflow's deferrable spelling of ``TimeDeltaSensor``; updraft runs it as the sensor itself.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

from updraft.operators.sensors.base import BaseSensorOperator

__all__ = ["TimeDeltaSensor", "TimeDeltaSensorAsync", "WaitSensor"]


class TimeDeltaSensor(BaseSensorOperator):
    """Succeed once ``data_interval_end + delta`` has passed.

    As in Airflow 3, a run without a data interval end (an asset-triggered run, say) measures
    from its ``run_after`` instead.
    """

    def __init__(self, *, delta: timedelta, end_from_trigger: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end_from_trigger = end_from_trigger  # a trigger's option: without one, nothing to do
        if not isinstance(delta, timedelta):
            raise TypeError(f"sensor {self.task_id!r}: delta must be a timedelta, got {delta!r}")
        self.delta = delta

    def _base_time(self, context: Any) -> datetime:
        end = context.get("data_interval_end")
        if end is not None:
            if not isinstance(end, datetime):
                raise ValueError(f"sensor {self.task_id!r}: data_interval_end is not a datetime: {end!r}")
            return end
        run_after = getattr(context.get("dag_run"), "run_after", None)
        if run_after is None:
            raise ValueError(
                f"sensor {self.task_id!r}: the run has neither a data_interval_end nor a run_after"
            )
        return run_after  # type: ignore[no-any-return]

    def poke(self, context: Any) -> bool:
        base = self._base_time(context)
        target = base + self.delta
        self.log.info("Checking whether %s has passed (base time %s, delta %s)", target, base, self.delta)
        return datetime.now(timezone.utc) > target


class TimeDeltaSensorAsync(TimeDeltaSensor):
    """Airflow's deferrable ``TimeDeltaSensor``: the same wait, done by poking."""

    def __init__(self, *, delta: timedelta, **kwargs: Any) -> None:
        kwargs.setdefault("deferrable", True)
        super().__init__(delta=delta, **kwargs)


class WaitSensor(BaseSensorOperator):
    """Wait ``time_to_wait`` (a timedelta, or an int of minutes, as in Airflow) from the task's start."""

    def __init__(self, *, time_to_wait: timedelta | int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(time_to_wait, timedelta):
            self.time_to_wait = time_to_wait
        elif isinstance(time_to_wait, int) and not isinstance(time_to_wait, bool):
            self.time_to_wait = timedelta(minutes=time_to_wait)
        else:
            raise TypeError(
                f"sensor {self.task_id!r}: time_to_wait must be a timedelta or a number of minutes, "
                f"got {time_to_wait!r}"
            )
        if self.time_to_wait < timedelta(0):
            raise ValueError(
                f"sensor {self.task_id!r}: time_to_wait must not be negative, got {time_to_wait!r}"
            )

    def execute(self, context: Any) -> None:
        self.log.info("Waiting %s", self.time_to_wait)
        time.sleep(self.time_to_wait.total_seconds())

    def poke(self, context: Any) -> bool:  # pragma: no cover - execute does the waiting
        return True
