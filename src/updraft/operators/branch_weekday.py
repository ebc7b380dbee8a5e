"""``BranchDayOfWeekOperator``: follow one list of tasks on the given weekdays, another on the others.

Airflow's ``airflow.operators.weekday``. The day is today's in the DAG's time zone, or with
``use_task_logical_date`` (for backfills) the weekday of the run's logical date. ``week_day`` is a
day name (any case), a :class:`WeekDay`, or a collection of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from updraft.operators.branch import BaseBranchOperator
from updraft.operators.sensors.weekday import WeekDay
from updraft.sdk.settings import settings

__all__ = ["BranchDayOfWeekOperator", "WeekDay"]


class BranchDayOfWeekOperator(BaseBranchOperator):
    """Follow ``follow_task_ids_if_true`` on a day in ``week_day``, else ``follow_task_ids_if_false``."""

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        week_day: str | WeekDay | Iterable[str | WeekDay],
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        try:
            self._week_day_num = WeekDay.validate_week_day(week_day)
        except (AttributeError, TypeError) as exc:
            raise ValueError(f"task {self.task_id!r}: {exc}") from None
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date

    def _today(self, context: Any) -> datetime:
        if self.use_task_logical_date:
            moment = context.get("logical_date") or getattr(context.get("dag_run"), "run_after", None)
            if not isinstance(moment, datetime):
                raise ValueError(
                    f"task {self.task_id!r}: use_task_logical_date is set but the run has neither a "
                    "logical date nor a run_after"
                )
            return moment
        dag = self.dag if self.has_dag() else None
        return datetime.now(timezone.utc).astimezone(
            getattr(dag, "timezone", None) or settings.default_timezone
        )

    def choose_branch(self, context: Any) -> str | Iterable[str]:
        day = self._today(context).isoweekday()
        matched = day in self._week_day_num
        self.log.info(
            "Today is %s: %s %s",
            WeekDay(day).name,
            "one of" if matched else "not one of",
            sorted(WeekDay(n).name for n in self._week_day_num),
        )
        return self.follow_task_ids_if_true if matched else self.follow_task_ids_if_false
