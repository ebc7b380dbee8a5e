"""``BranchDateTimeOperator``: follow one list of tasks inside a time window, another outside it.

Airflow's ``airflow.operators.datetime``. The moment compared is now, or the run's logical date
with ``use_task_logical_date`` (for backfills; a run without one uses its ``run_after``). Targets
that are ``datetime.time`` values are put on that moment's date in the DAG's time zone, and when
the upper time is before the lower one the window ends the next day (``time(22)`` to ``time(2)``
spans midnight). Naive targets are in the DAG's time zone. Both bounds are inclusive; either may
be None (an open end), not both.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta, timezone, tzinfo
from typing import Any

from updraft.operators.branch import BaseBranchOperator
from updraft.sdk.settings import settings

__all__ = ["BranchDateTimeOperator", "target_times_as_dates"]

Target = datetime | time | None


def _on_date(base: datetime, target: Target, tz: tzinfo) -> datetime | None:
    if target is None:
        return None
    if isinstance(target, datetime):
        return target if target.tzinfo is not None else target.replace(tzinfo=tz)
    zone = target.tzinfo or tz
    day = base.astimezone(zone).date()
    return datetime.combine(day, target.replace(tzinfo=None), zone)


def target_times_as_dates(
    base: datetime, lower: Target, upper: Target, tz: tzinfo = timezone.utc
) -> tuple[datetime | None, datetime | None]:
    """The bounds as aware datetimes: times go on ``base``'s date in ``tz``; a window of two
    times whose upper end comes first ends on the next day."""
    both_datetimes = isinstance(lower, datetime) and isinstance(upper, datetime)
    low, high = _on_date(base, lower, tz), _on_date(base, upper, tz)
    if not both_datetimes and low is not None and high is not None and high < low:
        high += timedelta(days=1)
    return low, high


def _check_target(task_id: str, name: str, value: Any) -> None:
    if value is not None and not isinstance(value, (datetime, time)):
        raise TypeError(
            f"task {task_id!r}: {name} must be a datetime, a time or None, got {type(value).__name__} {value!r}"
        )


class BranchDateTimeOperator(BaseBranchOperator):
    """Follow ``follow_task_ids_if_true`` when the moment is within [target_lower, target_upper],
    else ``follow_task_ids_if_false`` (task ids, TaskGroup ids, or lists of them)."""

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        target_lower: datetime | time | None,
        target_upper: datetime | time | None,
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if target_lower is None and target_upper is None:
            raise ValueError(
                f"task {self.task_id!r}: target_lower and target_upper are both None; set at least "
                "one to compare the current date and time with"
            )
        _check_target(self.task_id, "target_lower", target_lower)
        _check_target(self.task_id, "target_upper", target_upper)
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.target_lower = target_lower
        self.target_upper = target_upper
        self.use_task_logical_date = use_task_logical_date

    def _timezone(self) -> tzinfo:
        dag = self.dag if self.has_dag() else None
        return getattr(dag, "timezone", None) or settings.default_timezone

    def _moment(self, context: Any) -> datetime:
        if not self.use_task_logical_date:
            return datetime.now(timezone.utc)
        moment = context.get("logical_date") or getattr(context.get("dag_run"), "run_after", None)
        if not isinstance(moment, datetime):
            raise ValueError(
                f"task {self.task_id!r}: use_task_logical_date is set but the run has neither a "
                "logical date nor a run_after"
            )
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)

    def choose_branch(self, context: Any) -> str | Iterable[str]:
        now = self._moment(context)
        lower, upper = target_times_as_dates(now, self.target_lower, self.target_upper, self._timezone())
        inside = (upper is None or now <= upper) and (lower is None or now >= lower)
        self.log.info(
            "%s is %s the window [%s, %s]", now.isoformat(), "inside" if inside else "outside", lower, upper
        )
        return self.follow_task_ids_if_true if inside else self.follow_task_ids_if_false
