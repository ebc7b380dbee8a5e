"""The one table of allowed task-instance and DAG-run state transitions.

Every state change in updraft goes through ``check_ti_transition`` / ``check_run_transition``,
so an impossible change (a finished task silently becoming ``running``) is a loud bug, not
corrupted history. Manual changes (mark success/failed, clear) use ``manual=True``.
"""

from __future__ import annotations

from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.states import DagRunState, TaskInstanceState

TI = TaskInstanceState
NONE = None

#: Automatic transitions, made by the scheduler, the executor or the task runner.
TI_TRANSITIONS: dict[TaskInstanceState | None, frozenset[TaskInstanceState | None]] = {
    # SUCCESS: an EmptyOperator without callbacks is marked successful without running (Airflow).
    NONE: frozenset(
        {
            TI.SCHEDULED,
            TI.QUEUED,
            TI.RUNNING,
            TI.SKIPPED,
            TI.UPSTREAM_FAILED,
            TI.REMOVED,
            TI.FAILED,
            TI.SUCCESS,
        }
    ),
    TI.SCHEDULED: frozenset(
        {TI.QUEUED, TI.RUNNING, NONE, TI.SKIPPED, TI.UPSTREAM_FAILED, TI.REMOVED, TI.FAILED}
    ),
    TI.QUEUED: frozenset({TI.RUNNING, TI.SCHEDULED, NONE, TI.FAILED, TI.UP_FOR_RETRY, TI.REMOVED}),
    TI.RUNNING: frozenset(
        {TI.SUCCESS, TI.FAILED, TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE, TI.SKIPPED, TI.RESTARTING, TI.DEFERRED}
    ),
    TI.UP_FOR_RETRY: frozenset({TI.SCHEDULED, TI.QUEUED, TI.RUNNING, NONE, TI.REMOVED, TI.FAILED}),
    TI.UP_FOR_RESCHEDULE: frozenset(
        {TI.SCHEDULED, TI.QUEUED, TI.RUNNING, NONE, TI.REMOVED, TI.FAILED, TI.SKIPPED}
    ),
    TI.RESTARTING: frozenset({TI.UP_FOR_RETRY, NONE, TI.FAILED}),
    TI.DEFERRED: frozenset({TI.SCHEDULED, TI.FAILED, TI.SKIPPED, NONE}),
    TI.SUCCESS: frozenset(),
    TI.FAILED: frozenset(),
    TI.SKIPPED: frozenset(),
    TI.UPSTREAM_FAILED: frozenset(),
    TI.REMOVED: frozenset({NONE}),
}

#: What a user may do by hand (UI, API, CLI): clear to none, or mark a final state.
MANUAL_TARGETS: frozenset[TaskInstanceState | None] = frozenset({NONE, TI.SUCCESS, TI.FAILED, TI.SKIPPED})

RUN_TRANSITIONS: dict[DagRunState, frozenset[DagRunState]] = {
    DagRunState.QUEUED: frozenset({DagRunState.RUNNING, DagRunState.FAILED}),
    DagRunState.RUNNING: frozenset({DagRunState.SUCCESS, DagRunState.FAILED}),
    DagRunState.SUCCESS: frozenset({DagRunState.QUEUED, DagRunState.RUNNING}),
    DagRunState.FAILED: frozenset({DagRunState.QUEUED, DagRunState.RUNNING}),
}


class InvalidStateTransition(UpdraftException):
    """A state change that the transition table does not allow."""


def _ti_state(value: str | TaskInstanceState | None) -> TaskInstanceState | None:
    if value is None or value == "none":
        return None
    return TaskInstanceState(value)


def ti_transition_allowed(
    old: str | TaskInstanceState | None, new: str | TaskInstanceState | None, *, manual: bool = False
) -> bool:
    old_state, new_state = _ti_state(old), _ti_state(new)
    if old_state == new_state:
        return True
    if manual and new_state in MANUAL_TARGETS:
        return True
    return new_state in TI_TRANSITIONS[old_state]


def check_ti_transition(
    old: str | TaskInstanceState | None,
    new: str | TaskInstanceState | None,
    *,
    what: str,
    manual: bool = False,
) -> None:
    """Raise InvalidStateTransition naming ``what`` (e.g. the task instance) if not allowed."""
    if not ti_transition_allowed(old, new, manual=manual):
        raise InvalidStateTransition(f"{what}: cannot change state from {old or 'none'} to {new or 'none'}")


def check_run_transition(old: str | DagRunState, new: str | DagRunState, *, what: str) -> None:
    old_state, new_state = DagRunState(old), DagRunState(new)
    if old_state != new_state and new_state not in RUN_TRANSITIONS[old_state]:
        raise InvalidStateTransition(f"{what}: cannot change run state from {old_state} to {new_state}")
