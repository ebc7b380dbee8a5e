"""``LatestOnlyOperator``: let downstream tasks run only in the latest scheduled run.

In any other run (a catch-up or backfill of an old interval) every direct downstream task is
skipped. Runs triggered by hand are never skipped. "Latest" means now falls between the end of
the previous scheduled interval and the end of the next one, as the DAG's timetable computes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from updraft.operators.branch import BaseBranchOperator
from updraft.sdk.states import DagRunType
from updraft.sdk.timetables import DataInterval, TimeRestriction

__all__ = ["LatestOnlyOperator"]


class LatestOnlyOperator(BaseBranchOperator):
    """Skip the direct downstream tasks unless this run covers the latest schedule interval."""

    ui_color: ClassVar[str] = "#e9ffdb"

    def choose_branch(self, context: Any) -> str | Iterable[str] | None:
        dag_run = context["dag_run"]
        everything = sorted(self.downstream_task_ids)
        if str(getattr(dag_run, "run_type", "")) == DagRunType.MANUAL.value:
            self.log.info("Manually triggered run: allowing execution to proceed.")
            return everything
        window = self.compare_window(dag_run)
        if window is None:
            self.log.info("Last scheduled run: allowing execution to proceed.")
            return everything
        now = datetime.now(timezone.utc)
        left, right = window
        self.log.info("Checking latest only with left_window %s, right_window %s, now %s", left, right, now)
        if not left < now <= right:
            self.log.info("Not the latest run; skipping the downstream tasks.")
            return []
        self.log.info("Latest run: allowing execution to proceed.")
        return everything

    def compare_window(self, dag_run: Any) -> tuple[datetime, datetime] | None:
        """(end of the previous interval, end of the next one), or None when no run follows."""
        dag = self.dag
        assert dag is not None
        run_date = dag_run.logical_date or dag_run.run_after
        current = DataInterval(
            start=dag_run.data_interval_start or run_date, end=dag_run.data_interval_end or run_date
        )
        timetable = dag.timetable
        before_end = TimeRestriction(
            earliest=None, latest=current.end - timedelta(microseconds=1), catchup=True
        )
        previous = timetable.next_dagrun_info(last_automated_data_interval=current, restriction=before_end)
        left = previous.data_interval.end if previous is not None else current.start
        after = TimeRestriction(earliest=current.end, latest=None, catchup=True)
        following = timetable.next_dagrun_info(last_automated_data_interval=current, restriction=after)
        if following is None:
            return None
        return left, following.data_interval.end
