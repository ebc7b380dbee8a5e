"""``airflow.utils.state.State``: the state names as constants, and the groups Airflow defines."""

from __future__ import annotations

from updraft.sdk.states import DagRunState, TaskInstanceState


class State:
    """Constants for task-instance and DAG-run states, compared equal to their string values."""

    NONE = None
    SCHEDULED = TaskInstanceState.SCHEDULED
    QUEUED = TaskInstanceState.QUEUED
    RUNNING = TaskInstanceState.RUNNING
    SUCCESS = TaskInstanceState.SUCCESS
    FAILED = TaskInstanceState.FAILED
    SKIPPED = TaskInstanceState.SKIPPED
    UPSTREAM_FAILED = TaskInstanceState.UPSTREAM_FAILED
    UP_FOR_RETRY = TaskInstanceState.UP_FOR_RETRY
    UP_FOR_RESCHEDULE = TaskInstanceState.UP_FOR_RESCHEDULE
    REMOVED = TaskInstanceState.REMOVED
    RESTARTING = TaskInstanceState.RESTARTING
    DEFERRED = TaskInstanceState.DEFERRED

    task_states = (None, *TaskInstanceState)
    dag_states = tuple(DagRunState)
    finished = frozenset({SUCCESS, FAILED, SKIPPED, UPSTREAM_FAILED, REMOVED})
    unfinished = frozenset(
        {None, SCHEDULED, QUEUED, RUNNING, UP_FOR_RETRY, UP_FOR_RESCHEDULE, RESTARTING, DEFERRED}
    )
    failed_states = frozenset({FAILED, UPSTREAM_FAILED})
    success_states = frozenset({SUCCESS, SKIPPED})
    adoptable_states = frozenset({QUEUED, RUNNING, RESTARTING})
