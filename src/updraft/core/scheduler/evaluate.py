"""What a DAG run needs next, decided from its task instances' states alone (no DB, no I/O).

``evaluate_run`` takes the serialized DAG and a snapshot of the run's task instances and returns
the changes to make: instances to schedule (trigger rule and depends_on_past satisfied, or a
retry / reschedule now due), to skip, to mark upstream_failed, and whether the run is finished.
Skips and upstream failures propagate within one call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from updraft.core.trigger_rules import (
    UpstreamCounts,
    Verdict,
    evaluate,
    instance_upstream_states,
    setup_success_gate,
)
from updraft.sdk.abstractoperator import run_state_task_ids
from updraft.sdk.serialization import SerializedDag, SerializedTask
from updraft.sdk.states import DagRunState
from updraft.sdk.states import TaskInstanceState as TI
from updraft.sdk.trigger_rule import TriggerRule

FINISHED = frozenset(
    {TI.SUCCESS.value, TI.FAILED.value, TI.SKIPPED.value, TI.UPSTREAM_FAILED.value, TI.REMOVED.value}
)
ACTIVE = frozenset({TI.SCHEDULED.value, TI.QUEUED.value, TI.RUNNING.value, TI.RESTARTING.value})
PAST_OK = frozenset({TI.SUCCESS.value, TI.SKIPPED.value})


@dataclass
class TIView:
    """The columns of one task instance the scheduler decides on."""

    task_id: str
    map_index: int
    state: str | None
    try_number: int = 0
    next_retry_at: datetime | None = None
    reschedule_at: datetime | None = None


@dataclass
class RunDecision:
    #: (task_id, map_index, next try number) to move to ``scheduled``.
    schedule: list[tuple[str, int, int]] = field(default_factory=list)
    skip: list[tuple[str, int]] = field(default_factory=list)
    upstream_failed: list[tuple[str, int]] = field(default_factory=list)
    #: The run's final state when every task instance is finished (or nothing can progress).
    run_state: DagRunState | None = None
    deadlocked: bool = False
    #: Some instance waits for the previous run's instance (depends_on_past) to finish.
    waiting_on_past: bool = False
    #: The earliest future retry / reschedule time, for the scheduler's sleep.
    next_event_at: datetime | None = None


def evaluate_run(
    dag: SerializedDag,
    tis: Iterable[TIView],
    now: datetime,
    past_states: dict[tuple[str, int], str | None] | None = None,
    has_past_run: bool = False,
) -> RunDecision:
    """Decide the next changes of one run. ``past_states`` are the previous run's TI states,
    needed only for tasks with depends_on_past / wait_for_downstream."""
    decision = RunDecision()
    by_task: dict[str, list[TIView]] = defaultdict(list)
    for ti in tis:
        by_task[ti.task_id].append(ti)
    pending_tasks = [
        task_id for task_id in dag.task_dict if any(t.state is None for t in by_task.get(task_id, ()))
    ]
    changed = True
    settled: set[str] = set()
    while changed:
        changed = False
        for task_id in pending_tasks:
            if task_id in settled:
                continue
            task = dag.task_dict[task_id]
            waiting = [ti for ti in by_task[task_id] if ti.state is None]
            for subset, states in _decision_units(dag, task, waiting, by_task):
                verdict = evaluate(task.trigger_rule, UpstreamCounts.from_states(states))
                if verdict is Verdict.RUN and task.trigger_rule is TriggerRule.ALL_DONE_SETUP_SUCCESS:
                    verdict = setup_success_gate(
                        task, dag, lambda up: (ti.state for ti in by_task.get(up, ()))
                    )
                if verdict is Verdict.WAIT:
                    continue
                if verdict is Verdict.RUN:
                    allowed, premature = _past_allows(dag, task_id, subset, past_states, has_past_run)
                    if not allowed:
                        decision.waiting_on_past = decision.waiting_on_past or premature
                        continue
                    for ti in subset:
                        decision.schedule.append((task_id, ti.map_index, ti.try_number + 1))
                        ti.state = TI.SCHEDULED.value
                    continue
                state = TI.SKIPPED.value if verdict is Verdict.SKIP else TI.UPSTREAM_FAILED.value
                target = decision.skip if verdict is Verdict.SKIP else decision.upstream_failed
                for ti in subset:
                    target.append((task_id, ti.map_index))
                    ti.state = state
                changed = True
            if all(ti.state is not None for ti in waiting):
                settled.add(task_id)
    _due_retries(by_task, now, decision)
    _run_state(dag, by_task, decision)
    return decision


def _decision_units(
    dag: SerializedDag, task: SerializedTask, waiting: list[TIView], by_task: dict[str, list[TIView]]
) -> list[tuple[list[TIView], list[str | None]]]:
    """The waiting instances of ``task`` that share one decision, each with the upstream states
    that decide it: all of them together, or one by one for a task of a mapped task group whose
    upstream tasks include tasks of the same group (instance i follows their instance i)."""
    if not waiting:
        return []
    group = task.mapped_group_id
    in_group = (
        {up for up in task.upstream_task_ids if dag.task_dict[up].mapped_group_id == group}
        if group is not None
        else set()
    )
    if not in_group:
        states = [ti.state for up in task.upstream_task_ids for ti in by_task.get(up, ())]
        return [(waiting, states)]

    def rows_of(up: str) -> list[tuple[int, str | None]]:
        return [(ti.map_index, ti.state) for ti in by_task.get(up, ())]

    return [
        (
            [ti],
            list(
                instance_upstream_states(task.upstream_task_ids, in_group.__contains__, rows_of, ti.map_index)
            ),
        )
        for ti in waiting
    ]


def _past_allows(
    dag: SerializedDag,
    task_id: str,
    waiting: list[TIView],
    past_states: dict[tuple[str, int], str | None] | None,
    has_past_run: bool,
) -> tuple[bool, bool]:
    """depends_on_past: the same task instance in the previous run succeeded or was skipped;
    wait_for_downstream: so did that instance's direct downstream tasks.

    Returns (allowed, premature): premature when blocked only by instances still unfinished.
    """
    task = dag.task_dict[task_id]
    if not task.depends_on_past or not has_past_run:
        return True, False
    past = past_states or {}
    blocking: list[str | None] = []
    for ti in waiting:
        key = (task_id, ti.map_index) if (task_id, ti.map_index) in past else (task_id, -1)
        if key in past and past[key] not in PAST_OK:
            blocking.append(past[key])
    if task.wait_for_downstream:
        blocking.extend(
            state
            for (past_task, _), state in past.items()
            if past_task in task.downstream_task_ids and state not in PAST_OK
        )
    if not blocking:
        return True, False
    return False, any(state not in FINISHED for state in blocking)


def _due_retries(by_task: dict[str, list[TIView]], now: datetime, decision: RunDecision) -> None:
    for task_id, instances in by_task.items():
        for ti in instances:
            if ti.state == TI.UP_FOR_RETRY.value:
                if ti.next_retry_at is None or ti.next_retry_at <= now:
                    decision.schedule.append((task_id, ti.map_index, ti.try_number + 1))
                    ti.state = TI.SCHEDULED.value
                else:
                    _note_event(decision, ti.next_retry_at)
            elif ti.state == TI.UP_FOR_RESCHEDULE.value:
                if ti.reschedule_at is None or ti.reschedule_at <= now:
                    # A reschedule is the same try continuing: the try number does not change.
                    decision.schedule.append((task_id, ti.map_index, ti.try_number))
                    ti.state = TI.SCHEDULED.value
                else:
                    _note_event(decision, ti.reschedule_at)


def _note_event(decision: RunDecision, at: datetime) -> None:
    if decision.next_event_at is None or at < decision.next_event_at:
        decision.next_event_at = at


def _run_state(dag: SerializedDag, by_task: dict[str, list[TIView]], decision: RunDecision) -> None:
    states = [ti.state for instances in by_task.values() for ti in instances]
    unfinished = [s for s in states if s not in FINISHED]
    if unfinished:
        progressing = any(
            s in ACTIVE or s in (TI.UP_FOR_RETRY.value, TI.UP_FOR_RESCHEDULE.value) for s in unfinished
        )
        if progressing or decision.schedule or decision.waiting_on_past:
            return
        # Only never-started instances are left and none can start: Airflow calls this a deadlock.
        decision.deadlocked = True
        decision.run_state = DagRunState.FAILED
        return
    leaves = run_state_task_ids(dag)
    leaf_states = [ti.state for task_id in leaves for ti in by_task.get(task_id, ())]
    ok = all(state in PAST_OK for state in leaf_states)
    decision.run_state = DagRunState.SUCCESS if ok else DagRunState.FAILED
