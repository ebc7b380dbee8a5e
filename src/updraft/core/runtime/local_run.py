"""Driving one DAG run to the end inside this process (``updraft dags test``).

Event-driven: when a task instance settles, only its direct downstream tasks are evaluated
against their trigger rules; skips and upstream failures propagate the same way. Runnable task
instances run one at a time, in waves (as Airflow does), highest priority weight first within a
wave; retries wait for their delay, and a sensor in reschedule mode waits until its
``reschedule_at`` and runs again with the same try number. Every state change is written to the metadata DB as it happens.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from updraft.core.runtime import run_store
from updraft.core.runtime.attempt import AttemptOutcome, run_attempt, utcnow
from updraft.core.runtime.context import build_context
from updraft.core.runtime.task_instance import RunInfo, RuntimeTaskInstance
from updraft.core.runtime.task_log import AttemptLog, attempt_log_path
from updraft.core.runtime.xcom_store import XComStore
from updraft.core.trigger_rules import (
    UpstreamCounts,
    Verdict,
    evaluate,
    instance_upstream_states,
    setup_success_gate,
)
from updraft.sdk.abstractoperator import AbstractOperator, run_state_task_ids
from updraft.sdk.dag import DAG
from updraft.sdk.masking import redact
from updraft.sdk.states import DagRunState
from updraft.sdk.states import TaskInstanceState as TI
from updraft.sdk.trigger_rule import TriggerRule

log = logging.getLogger(__name__)
FINISHED = frozenset({TI.SUCCESS, TI.FAILED, TI.SKIPPED, TI.UPSTREAM_FAILED, TI.REMOVED})


@dataclass
class TIRecord:
    """The driver's in-memory view of one task instance (mirrors its DB row)."""

    task_id: str
    map_index: int
    max_tries: int
    state: TI | None = None
    try_number: int = 0
    start_date: datetime | None = None
    end_date: datetime | None = None
    next_retry_at: datetime | None = None
    reschedule_at: datetime | None = None
    error: str | None = None

    @property
    def duration(self) -> float | None:
        if self.start_date and self.end_date:
            return (self.end_date - self.start_date).total_seconds()
        return None


@dataclass
class RunProgress:
    total: int
    finished: int
    running: str | None
    states: dict[str, int] = field(default_factory=dict)


def is_trivially_empty(task: AbstractOperator) -> bool:
    """An EmptyOperator with no callbacks succeeds without running (as Airflow's scheduler does)."""
    from updraft.operators.empty import EmptyOperator

    return (
        isinstance(task, EmptyOperator)
        and type(task).execute is EmptyOperator.execute
        and not (task.on_execute_callback or task.on_success_callback or task.outlets)
    )


class LocalRunDriver:
    """Runs every task of one DAG run in this process, in dependency order."""

    def __init__(
        self,
        dag: DAG,
        run: RunInfo,
        *,
        engine: Engine,
        xcoms: XComStore,
        params: dict[str, Any],
        log_folder: Path,
        priority: dict[str, int],
        max_map_length: int = 1024,
        max_retry_delay: timedelta | None = None,
        echo: TextIO | None = None,
        on_progress: Callable[[RunProgress], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.dag = dag
        self.run = run
        self.engine = engine
        self.xcoms = xcoms
        self.params = params
        self.log_folder = log_folder
        self.priority = priority
        self.max_map_length = max_map_length
        self.max_retry_delay = max_retry_delay
        self.echo = echo
        self.on_progress = on_progress
        self.sleep = sleep
        order = dag.topological_sort()
        self.topo_index = {task.task_id: i for i, task in enumerate(order)}
        self.tis: dict[str, list[TIRecord]] = {
            task.task_id: [TIRecord(task.task_id, -1, task.retries)]  # type: ignore[attr-defined]
            for task in order
        }
        self.pending: set[str] = set(self.tis)
        self._to_check: deque[str] = deque()
        self._queued_checks: set[str] = set()
        self._ready: list[tuple[int, int, int, int, TIRecord]] = []
        self._wave = -1  # the wave of the task instance running now (-1: none yet)
        #: Task instances waiting to run again (a retry or a sensor's next poke), by due time.
        self._retries: list[tuple[datetime, int, TIRecord]] = []
        self._seq = itertools.count()
        self._dirty: list[tuple[str, int, str | None]] = []
        #: EmptyOperator instances marked successful without running: their try counts (as Airflow).
        self._dirty_tried: list[tuple[str, int, str | None]] = []
        self.prev_success: dict[str, datetime | None] = {}
        self.last_finished: TIRecord | None = None
        #: The resolved arguments of each mapped task instance, by (task_id, map_index).
        self._mapped_kwargs: dict[tuple[str, int], dict[str, Any]] = {}
        #: Expanded instances of mapped task group tasks not yet decided, by task id.
        self._instances_waiting: dict[str, list[TIRecord]] = {}

    # -- public --------------------------------------------------------------------------------

    def execute(self) -> DagRunState:
        with self.engine.connect() as conn:
            self.prev_success = run_store.previous_success(conn, self.dag.dag_id, self.run.logical_date)
        for task in self.dag.tasks:
            if not task.upstream_task_ids or task.trigger_rule.value == "always":
                self._enqueue(task.task_id)
        while True:
            self._drain_checks()
            self._flush()
            if self._ready:
                entry = heapq.heappop(self._ready)
                self._wave, record = entry[0], entry[4]
                if record.state not in FINISHED:  # a branch may have skipped it since it became ready
                    self._run(record)
                continue
            if self._retries:
                due, _, record = heapq.heappop(self._retries)
                wait = (due - utcnow()).total_seconds()
                if wait > 0:
                    why = "poke" if record.state is TI.UP_FOR_RESCHEDULE else "retry"
                    self._report(f"waiting {wait:.1f}s to {why} {record.task_id}")
                    self.sleep(wait)
                self._push_ready(record)
                continue
            break
        return self._finish()

    def records(self) -> list[TIRecord]:
        return [record for task_id in self.tis for record in self.tis[task_id]]

    # -- evaluation ----------------------------------------------------------------------------

    def _enqueue(self, task_id: str) -> None:
        waiting = task_id in self.pending or task_id in self._instances_waiting
        if waiting and task_id not in self._queued_checks:
            self._queued_checks.add(task_id)
            self._to_check.append(task_id)

    def _enqueue_downstream(self, task_id: str) -> None:
        for down in sorted(self.dag.task_dict[task_id].downstream_task_ids, key=self.topo_index.__getitem__):
            self._enqueue(down)

    def _counts(self, task: AbstractOperator, map_index: int = -1) -> UpstreamCounts:
        group = task.mapped_task_group
        if group is None:
            return UpstreamCounts.from_states(
                record.state for up in task.upstream_task_ids for record in self.tis[up]
            )
        # In a mapped task group, instance i follows instance i of the group's other tasks.
        return UpstreamCounts.from_states(
            instance_upstream_states(
                task.upstream_task_ids,
                lambda up: self.dag.task_dict[up].mapped_task_group is group,
                lambda up: [(record.map_index, record.state) for record in self.tis[up]],
                map_index,
            )
        )

    def _check_instances(self, task: AbstractOperator) -> None:
        """Decide, one by one, the expanded instances of a mapped task group's task."""
        waiting = self._instances_waiting[task.task_id]
        for record in list(waiting):
            verdict = evaluate(task.trigger_rule, self._counts(task, record.map_index))
            if verdict is Verdict.WAIT:
                continue
            waiting.remove(record)
            if verdict is Verdict.RUN:
                self._push_ready(record)
                continue
            now = utcnow()
            record.state, record.start_date, record.end_date = TI(verdict.value), now, now
            self._dirty.append((task.task_id, record.map_index, record.state.value))
            self._enqueue_downstream(task.task_id)
        if not waiting:
            del self._instances_waiting[task.task_id]

    def _drain_checks(self) -> None:
        while self._to_check:
            task_id = self._to_check.popleft()
            self._queued_checks.discard(task_id)
            task = self.dag.task_dict[task_id]
            if task_id in self._instances_waiting:
                self._check_instances(task)
                continue
            if task_id not in self.pending:
                continue
            verdict = evaluate(task.trigger_rule, self._counts(task))  # type: ignore[attr-defined]
            if verdict is Verdict.RUN and task.trigger_rule is TriggerRule.ALL_DONE_SETUP_SUCCESS:  # type: ignore[attr-defined]
                verdict = setup_success_gate(task, self.dag, lambda up: (r.state for r in self.tis[up]))
            if verdict is Verdict.WAIT:
                continue
            self.pending.discard(task_id)
            if verdict is Verdict.RUN:
                if task.is_mapped:
                    self._expand(task)
                else:
                    self._push_ready(self.tis[task_id][0])
            else:
                self._settle(task_id, TI(verdict.value))

    def _settle(self, task_id: str, state: TI, error: str | None = None) -> None:
        """Give every instance of a task a final state without running it, and propagate."""
        now = utcnow()
        for record in self.tis[task_id]:
            record.state = state
            record.start_date = record.end_date = now
            record.error = error
            self._dirty.append((task_id, record.map_index, state.value))
        self._enqueue_downstream(task_id)
        self._report(None)

    def _push_ready(self, record: TIRecord) -> None:
        task_id = record.task_id
        # In waves, as Airflow's `dags test`: what became ready earlier runs first (so a root that
        # creates a file runs before a sensor, downstream of another root, waits for it); within a
        # wave, highest priority weight first.
        wave = self._wave + 1 if self._wave >= 0 else 0
        key = (wave, -self.priority.get(task_id, 1), self.topo_index[task_id], record.map_index)
        heapq.heappush(self._ready, (*key, record))  # type: ignore[arg-type]

    def _expand(self, task: AbstractOperator) -> None:
        placeholder = self.tis[task.task_id][0]
        lookup_ti = self._runtime_ti(task, placeholder)
        try:
            context = build_context(task, lookup_ti, self.params, self.prev_success, test_mode=True)
            kwargs_list = task.expand_kwargs_at_runtime(context, self.max_map_length)
        except Exception as exc:  # noqa: BLE001 - the user's expand input failed to resolve
            message = redact(f"cannot expand mapped task {task.task_id!r}: {type(exc).__name__}: {exc}")
            log.error(message)
            self._settle(task.task_id, TI.FAILED, error=message)
            return
        if not kwargs_list:
            self._settle(task.task_id, TI.SKIPPED)
            return
        self._flush()
        row = run_store.ti_row_for(task, self.priority.get(task.task_id, 1))
        with self.engine.begin() as conn:
            run_store.expand_task(conn, self.dag.dag_id, self.run.run_id, row, len(kwargs_list))
        self.tis[task.task_id] = [
            TIRecord(task.task_id, index, task.retries) for index in range(len(kwargs_list))
        ]
        for index, kwargs in enumerate(kwargs_list):
            self._mapped_kwargs[(task.task_id, index)] = kwargs
        if task.mapped_task_group is not None:
            self._instances_waiting[task.task_id] = list(self.tis[task.task_id])
            self._check_instances(task)
            return
        for record in self.tis[task.task_id]:
            self._push_ready(record)

    # -- running -------------------------------------------------------------------------------

    def _runtime_ti(self, task: AbstractOperator, record: TIRecord) -> RuntimeTaskInstance:
        return RuntimeTaskInstance(
            task=task,
            dag=self.dag,
            dag_run=self.run,
            map_index=record.map_index,
            try_number=max(record.try_number, 1),
            max_tries=record.max_tries,
            xcoms=self.xcoms,
        )

    def _run(self, record: TIRecord) -> None:
        task = self.dag.task_dict[record.task_id]
        if is_trivially_empty(task):
            now = utcnow()
            record.state, record.start_date, record.end_date = TI.SUCCESS, now, now
            record.try_number += 1
            self._dirty_tried.append((record.task_id, record.map_index, TI.SUCCESS.value))
            self._after_finish(record, None)
            return
        if record.state is not TI.UP_FOR_RESCHEDULE:  # a reschedule keeps its try (Airflow 3)
            record.try_number += 1
        record.state = TI.RUNNING
        start = utcnow()
        dag_id, run_id = self.dag.dag_id, self.run.run_id
        with self.engine.begin() as conn:
            run_store.mark_running(
                conn, dag_id, run_id, record.task_id, record.map_index, record.try_number, start
            )
            self.xcoms.clear(conn, dag_id, run_id, record.task_id, record.map_index)
        self._report(record.task_id)
        ti = self._runtime_ti(task, record)
        path = attempt_log_path(
            self.log_folder, dag_id, run_id, record.task_id, record.map_index, record.try_number
        )
        mapped_kwargs = self._mapped_kwargs.get((record.task_id, record.map_index))
        with AttemptLog(path, echo=self.echo):
            outcome = run_attempt(
                task,
                ti,
                self.params,
                prev_success=self.prev_success,
                max_map_length=self.max_map_length,
                max_retry_delay=self.max_retry_delay,
                mapped_kwargs=mapped_kwargs,
                test_mode=True,
            )
        record.state = outcome.state
        record.start_date, record.end_date = outcome.start_date, outcome.end_date
        record.next_retry_at = outcome.next_retry_at
        record.reschedule_at = outcome.reschedule_at
        record.error = outcome.error
        skips = self._skips_for(outcome)
        with self.engine.begin() as conn:
            run_store.record_outcome(
                conn, self.xcoms, dag_id, run_id, task, record.map_index, record.try_number, outcome, skips
            )
        self._after_finish(record, outcome)

    def _skips_for(self, outcome: AttemptOutcome) -> list[tuple[str, int, str | None]]:
        """Branching asked to skip these tasks: only those that have not started are skipped."""
        changes: list[tuple[str, int, str | None]] = []
        for task_id in sorted(outcome.skipped_downstream):
            if task_id not in self.tis:
                continue
            for skipped in self.tis[task_id]:
                if skipped.state is None:
                    now = utcnow()
                    skipped.state, skipped.start_date, skipped.end_date = TI.SKIPPED, now, now
                    changes.append((task_id, skipped.map_index, TI.SKIPPED.value))
            self.pending.discard(task_id)
        return changes

    def _after_finish(self, record: TIRecord, outcome: AttemptOutcome | None) -> None:
        if record.state is TI.UP_FOR_RETRY:
            assert record.next_retry_at is not None
            heapq.heappush(self._retries, (record.next_retry_at, next(self._seq), record))
        elif record.state is TI.UP_FOR_RESCHEDULE:
            assert record.reschedule_at is not None
            heapq.heappush(self._retries, (record.reschedule_at, next(self._seq), record))
        else:
            self.last_finished = record
            if outcome is not None:
                for task_id in sorted(outcome.skipped_downstream):
                    if task_id in self.tis:
                        self._enqueue_downstream(task_id)
            self._enqueue_downstream(record.task_id)
        self._report(None)

    def _flush(self) -> None:
        if self._dirty or self._dirty_tried:
            with self.engine.begin() as conn:
                run_store.set_states(conn, self.dag.dag_id, self.run.run_id, self._dirty)
                run_store.set_states(
                    conn, self.dag.dag_id, self.run.run_id, self._dirty_tried, count_try=True
                )
            self._dirty, self._dirty_tried = [], []

    # -- the end -------------------------------------------------------------------------------

    def _finish(self) -> DagRunState:
        leaves = run_state_task_ids(self.dag)
        leaf_states = [record.state for task_id in leaves for record in self.tis[task_id]]
        success = all(state in (TI.SUCCESS, TI.SKIPPED) for state in leaf_states)
        state = DagRunState.SUCCESS if success else DagRunState.FAILED
        with self.engine.begin() as conn:
            run_store.finish_run(conn, self.dag.dag_id, self.run.run_id, state.value, utcnow())
        self.run.state = state.value
        self._dag_callbacks(state)
        return state

    def _dag_callbacks(self, state: DagRunState) -> None:
        callbacks = (
            self.dag.on_success_callback if state is DagRunState.SUCCESS else self.dag.on_failure_callback
        )
        if not callbacks:
            return
        failed = [r for r in self.records() if r.state in (TI.FAILED, TI.UPSTREAM_FAILED)]
        record = failed[0] if failed else (self.last_finished or self.records()[-1])
        task = self.dag.task_dict[record.task_id]
        try:
            context = build_context(
                task, self._runtime_ti(task, record), self.params, self.prev_success, True
            )
        except Exception:  # e.g. the task's params reject the conf; the run is decided already
            log.exception("cannot build the context for DAG %s callbacks; they are not called", state.value)
            return
        context["reason"] = "success" if state is DagRunState.SUCCESS else "task_failure"
        for callback in callbacks:
            try:
                callback(context)
            except Exception:
                log.exception(
                    "DAG %s callback %r raised; the run's state is unchanged", state.value, callback
                )

    def _report(self, running: str | None) -> None:
        if self.on_progress is None:
            return
        records = self.records()
        states: dict[str, int] = {}
        finished = 0
        for record in records:
            name = record.state.value if record.state else "none"
            states[name] = states.get(name, 0) + 1
            finished += record.state in FINISHED
        self.on_progress(RunProgress(total=len(records), finished=finished, running=running, states=states))
