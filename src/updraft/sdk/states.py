"""The names of task-instance and DAG-run states.

Only the vocabulary lives here; which transitions are allowed is owned by
``updraft.core.state_machine``.
"""

from __future__ import annotations

from enum import Enum


class TaskInstanceState(str, Enum):
    """States of one task instance (one task, in one run, at one map index)."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    UPSTREAM_FAILED = "upstream_failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    REMOVED = "removed"
    RESTARTING = "restarting"
    DEFERRED = "deferred"

    def __str__(self) -> str:
        return self.value


class DagRunState(str, Enum):
    """States of one DAG run."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


class DagRunType(str, Enum):
    """How a DAG run came to be; the prefix of its generated run_id."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"
    BACKFILL = "backfill"
    ASSET_TRIGGERED = "asset_triggered"

    def __str__(self) -> str:
        return self.value

    def generate_run_id(self, logical_date_iso: str) -> str:
        return f"{self.value}__{logical_date_iso}"


#: A task instance in one of these states will not change again unless cleared.
FINISHED_STATES = frozenset(
    {
        TaskInstanceState.SUCCESS,
        TaskInstanceState.FAILED,
        TaskInstanceState.SKIPPED,
        TaskInstanceState.UPSTREAM_FAILED,
        TaskInstanceState.REMOVED,
    }
)

#: States counted as "not failed" by trigger rules and by run success.
SUCCESS_LIKE_STATES = frozenset({TaskInstanceState.SUCCESS, TaskInstanceState.SKIPPED})
