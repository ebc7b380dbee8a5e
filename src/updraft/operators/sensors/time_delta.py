"""``TimeDeltaSensor``: wait until a time span has passed after the run's data interval ends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from updraft.operators.sensors.base import BaseSensorOperator

__all__ = ["TimeDeltaSensor"]


class TimeDeltaSensor(BaseSensorOperator):
    """Succeed once ``data_interval_end + delta`` has passed.

    As in Airflow 3, a run without a data interval end (an asset-triggered run, say) measures
    from its ``run_after`` instead.
    """

    def __init__(self, *, delta: timedelta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
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
