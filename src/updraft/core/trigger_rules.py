"""Trigger-rule evaluation as a pure function of upstream state counts (no DB, no objects).

Given a task's trigger rule and how many of its upstream task instances are in each state, say
whether it may run now, must wait, or is decided already (skipped / upstream_failed), with
Airflow's semantics, including skip propagation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from updraft.sdk.states import TaskInstanceState as TI
from updraft.sdk.trigger_rule import TriggerRule as TR


@dataclass(frozen=True)
class UpstreamCounts:
    """How the upstream task instances of one task stand."""

    total: int
    success: int = 0
    skipped: int = 0
    failed: int = 0
    upstream_failed: int = 0
    removed: int = 0

    @property
    def done(self) -> int:
        return self.success + self.skipped + self.failed + self.upstream_failed + self.removed

    @classmethod
    def from_states(cls, states: Iterable[str | TI | None]) -> UpstreamCounts:
        total = success = skipped = failed = upstream_failed = removed = 0
        for state in states:
            total += 1
            if state == TI.SUCCESS:
                success += 1
            elif state == TI.SKIPPED:
                skipped += 1
            elif state == TI.FAILED:
                failed += 1
            elif state == TI.UPSTREAM_FAILED:
                upstream_failed += 1
            elif state == TI.REMOVED:
                removed += 1
        return cls(total, success, skipped, failed, upstream_failed, removed)


class Verdict(str, Enum):
    RUN = "run"
    WAIT = "wait"
    SKIP = "skipped"
    UPSTREAM_FAILED = "upstream_failed"


def evaluate(rule: TR, c: UpstreamCounts) -> Verdict:
    """Decide a task's fate from its trigger rule and its upstream counts."""
    if c.total == 0 or rule is TR.ALWAYS:
        return Verdict.RUN
    settled = _settled_state(rule, c)
    if settled is not None:
        return settled
    return Verdict.RUN if _passes(rule, c) else Verdict.WAIT


def _settled_state(rule: TR, c: UpstreamCounts) -> Verdict | None:
    """States that can be set before (or without) every upstream finishing."""
    all_done = c.done >= c.total
    if rule is TR.ALL_SUCCESS:
        if c.failed or c.upstream_failed:
            return Verdict.UPSTREAM_FAILED
        if c.skipped:
            return Verdict.SKIP
    elif rule is TR.ALL_FAILED:
        if c.success or c.skipped:
            return Verdict.SKIP
    elif rule is TR.ONE_SUCCESS:
        if all_done and c.done == c.skipped:
            return Verdict.SKIP
        if all_done and c.success <= 0:
            return Verdict.UPSTREAM_FAILED
    elif rule is TR.ONE_FAILED:
        if all_done and not (c.failed or c.upstream_failed):
            return Verdict.SKIP
    elif rule is TR.ONE_DONE:
        if all_done and not (c.failed or c.success):
            return Verdict.SKIP
    elif rule is TR.NONE_FAILED:
        if c.failed or c.upstream_failed:
            return Verdict.UPSTREAM_FAILED
    elif rule is TR.NONE_FAILED_MIN_ONE_SUCCESS:
        if c.failed or c.upstream_failed:
            return Verdict.UPSTREAM_FAILED
        if c.skipped == c.total:
            return Verdict.SKIP
    elif rule is TR.NONE_SKIPPED:
        if c.skipped:
            return Verdict.SKIP
    elif rule is TR.ALL_SKIPPED:
        if c.success or c.failed or c.upstream_failed:
            return Verdict.SKIP
    elif rule is TR.ALL_DONE_MIN_ONE_SUCCESS:
        if c.skipped > 0:
            return Verdict.SKIP
        if c.success + c.failed + c.upstream_failed + c.removed >= c.total - c.skipped and c.success == 0:
            return Verdict.UPSTREAM_FAILED
    return None


def _passes(rule: TR, c: UpstreamCounts) -> bool:
    all_done = c.done >= c.total
    if rule is TR.ALL_SUCCESS:
        return c.success >= c.total
    if rule is TR.ALL_FAILED:
        return c.failed + c.upstream_failed >= c.total
    if rule in (TR.ALL_DONE, TR.ALL_DONE_SETUP_SUCCESS):
        return all_done
    if rule is TR.ALL_DONE_MIN_ONE_SUCCESS:
        return (
            c.skipped == 0
            and c.success + c.failed + c.upstream_failed + c.removed >= c.total
            and c.success > 0
        )
    if rule is TR.ONE_SUCCESS:
        return c.success > 0
    if rule is TR.ONE_FAILED:
        return c.failed + c.upstream_failed > 0
    if rule is TR.ONE_DONE:
        return c.success + c.failed > 0
    if rule in (TR.NONE_FAILED, TR.NONE_FAILED_MIN_ONE_SUCCESS):
        return c.success + c.skipped >= c.total
    if rule is TR.NONE_SKIPPED:
        return all_done and c.skipped == 0
    if rule is TR.ALL_SKIPPED:
        return c.skipped >= c.total
    return False


def instance_upstream_states(
    upstream_task_ids: Iterable[str],
    same_group: Callable[[str], bool],
    rows_of: Callable[[str], Iterable[tuple[int, Any]]],
    map_index: int,
) -> Iterator[Any]:
    """The states of the upstream instances that decide instance ``map_index`` of a task.

    An upstream in the same mapped task group counts only with its instance of the same map
    index, or with its placeholder while it has not expanded; so the placeholder (-1) of a task
    ignores the in-group upstreams that have expanded. Other upstreams count with every instance.
    """
    for up in upstream_task_ids:
        rows = rows_of(up)
        if not same_group(up):
            yield from (state for _, state in rows)
            continue
        rows = list(rows)
        matching = [state for index, state in rows if index == map_index] if map_index >= 0 else []
        yield from matching or (state for index, state in rows if index == -1)


def setup_success_gate(task: Any, dag: Any, states_of: Callable[[str], Iterable[Any]]) -> Verdict:
    """``all_done_setup_success`` (a teardown's rule): once its upstream is done, the teardown runs
    when at least one of its setup tasks succeeded (or it has none), and is skipped otherwise."""
    setups = [up for up in task.upstream_task_ids if getattr(dag.task_dict[up], "is_setup", False)]
    if not setups:
        return Verdict.RUN
    succeeded = any(str(getattr(s, "value", s)) == "success" for up in setups for s in states_of(up))
    return Verdict.RUN if succeeded else Verdict.SKIP
