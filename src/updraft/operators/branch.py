"""Branching: follow some directly-downstream tasks and skip the others, as Airflow does.

A branch returns a task id, a TaskGroup id (meaning the group's root tasks), a list of these, or
``None`` (follow nothing). Every direct downstream task that is neither followed nor downstream
of a followed task is skipped, so a "join" task reachable through the chosen branch still runs.
The skips go through ``ti.skip_downstream_tasks``; the runtime applies them when the branching
task succeeds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.exceptions import UpdraftException

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG

__all__ = ["BaseBranchOperator", "BranchMixIn", "normalize_branch_ids"]


def normalize_branch_ids(task_id: str, branches: Any) -> list[str]:
    """The branch ids as a list, or an error naming the task when the value has the wrong type."""
    if branches is None:
        return []
    if isinstance(branches, str):
        return [branches]
    if isinstance(branches, Iterable) and not isinstance(branches, (bytes, dict)):
        ids = list(branches)
        wrong = [item for item in ids if not isinstance(item, str)]
        if wrong:
            raise UpdraftException(
                f"branch task {task_id!r} must return task ids as strings, but got "
                + ", ".join(f"{item!r} ({type(item).__name__})" for item in wrong)
            )
        return ids
    raise UpdraftException(
        f"branch task {task_id!r} must return a task id, a TaskGroup id, a list of them or None, "
        f"not {type(branches).__name__} {branches!r}"
    )


def _expand_group_ids(dag: DAG, ids: list[str]) -> list[str]:
    """Replace each TaskGroup id among ``ids`` by the ids of the group's root tasks."""
    if all(branch in dag.task_dict for branch in ids):
        return ids
    groups = {group.group_id: group for group in dag.task_group.iter_groups()}
    expanded: list[str] = []
    for branch in ids:
        group = groups.get(branch) if branch not in dag.task_dict else None
        if group is not None:
            expanded.extend(task.task_id for task in group.roots)
        else:
            expanded.append(branch)
    return expanded


class BranchMixIn:
    """Gives an operator ``do_branch(context, branches)``: Airflow's branch skip semantics."""

    task_id: str
    downstream_task_ids: set[str]

    def do_branch(self, context: Any, branches_to_execute: Any) -> Any:
        """Skip the direct downstream tasks not on a chosen branch; returns ``branches_to_execute``."""
        dag: DAG | None = getattr(self, "dag", None)
        if dag is None:
            raise UpdraftException(f"branch task {self.task_id!r} is not in a DAG")
        ids = _expand_group_ids(dag, normalize_branch_ids(self.task_id, branches_to_execute))
        unknown = sorted({branch for branch in ids if branch not in dag.task_dict})
        if unknown:
            valid = ", ".join(sorted(self.downstream_task_ids)) or "(none)"
            raise UpdraftException(
                f"branch task {self.task_id!r} in DAG {dag.dag_id!r} returned unknown task id(s) "
                f"{', '.join(map(repr, unknown))}; its direct downstream tasks are: {valid}"
            )
        followed = set(ids)
        for branch in ids:
            followed |= dag.task_dict[branch].get_flat_relative_ids(upstream=False)
        to_skip = sorted(task_id for task_id in self.downstream_task_ids if task_id not in followed)
        log = getattr(self, "log", None)
        if log is not None:
            log.info("Following branch %s; skipping %s", sorted(set(ids)), to_skip)
        if to_skip:
            context["ti"].skip_downstream_tasks(to_skip)
        return branches_to_execute


class BaseBranchOperator(BranchMixIn, BaseOperator):
    """Subclass and implement ``choose_branch(context)`` to return the ids to follow."""

    def choose_branch(self, context: Any) -> str | Iterable[str] | None:
        raise NotImplementedError(f"{type(self).__name__} must implement choose_branch(context)")

    def execute(self, context: Any) -> Any:
        return self.do_branch(context, self.choose_branch(context))
