"""``DateTimeSensor``: wait until a given moment, usually templated from the run's dates.

``DateTimeSensorAsync`` is Airflow's deferrable spelling; updraft runs it as ``DateTimeSensor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar

from updraft.operators.sensors.base import BaseSensorOperator
from updraft.sdk.settings import settings

__all__ = ["DateTimeSensor", "DateTimeSensorAsync", "parse_moment"]


def parse_moment(value: Any, task_id: str) -> datetime:
    """A rendered ``target_time`` as an aware datetime; naive values are in the default timezone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"sensor {task_id!r}: target_time {value!r} is not an ISO 8601 date and time "
                "(e.g. 2024-01-31T06:00:00+00:00)"
            ) from None
    else:
        raise TypeError(
            f"sensor {task_id!r}: target_time must be a string or a datetime, got {type(value).__name__}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.default_timezone)
    return moment.astimezone(timezone.utc)


class DateTimeSensor(BaseSensorOperator):
    """Succeed once ``target_time`` (templated; an ISO string or a datetime) has passed.

    Unlike a fixed delay, a target such as ``"{{ data_interval_end.replace(hour=11) }}"`` is
    already met for old runs, so backfills do not wait.
    """

    template_fields: ClassVar[Sequence[str]] = ("target_time",)

    def __init__(self, *, target_time: str | datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(target_time, datetime):
            # A template field: keep the string form, which renders to itself.
            self.target_time: str | datetime = target_time.isoformat()
        elif isinstance(target_time, str):
            self.target_time = target_time
        else:
            raise TypeError(
                f"sensor {self.task_id!r}: target_time must be a string or a datetime, "
                f"got {type(target_time).__name__}"
            )

    def poke(self, context: Any) -> bool:
        moment = parse_moment(self.target_time, self.task_id)
        self.log.info("Checking whether the time (%s) has come", moment.isoformat())
        return datetime.now(timezone.utc) > moment


class DateTimeSensorAsync(DateTimeSensor):
    """Airflow's deferrable ``DateTimeSensor``: the same wait, done by poking.

    Airflow's trigger options (``start_from_trigger``, ``end_from_trigger``, ``trigger_kwargs``)
    are accepted and have no effect.
    """

    def __init__(
        self,
        *,
        target_time: str | datetime,
        start_from_trigger: bool = False,
        end_from_trigger: bool = False,
        trigger_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("deferrable", True)
        super().__init__(target_time=target_time, **kwargs)
        self.start_from_trigger = start_from_trigger
        self.end_from_trigger = end_from_trigger
