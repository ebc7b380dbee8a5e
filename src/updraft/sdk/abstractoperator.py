"""What a plain task and a mapped task have in common: identity, DAG membership and dependencies."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from updraft.sdk.dependencies import DependencyMixin
from updraft.sdk.trigger_rule import TriggerRule

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG
    from updraft.sdk.taskgroup import TaskGroup

KEY_PATTERN = re.compile(r"^[\w.-]+$")
MAX_KEY_LENGTH = 250


def validate_key(kind: str, key: object, where: str = "") -> str:
    """Check a dag_id, task_id or group_id: letters, digits, ``_``, ``.``, ``-``; at most 250 chars."""
    suffix = f" {where}" if where else ""
    if not isinstance(key, str):
        raise TypeError(f"{kind} must be a string, got {type(key).__name__} {key!r}{suffix}")
    if not key:
        raise ValueError(f"{kind} must not be empty{suffix}")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"{kind} {key[:40]!r}... is longer than {MAX_KEY_LENGTH} characters{suffix}")
    if not KEY_PATTERN.match(key):
        raise ValueError(
            f"invalid {kind} {key!r}{suffix}: use only letters, digits, underscores, dots and dashes"
        )
    return key


class AbstractOperator(DependencyMixin):
    """Common base of ``BaseOperator`` and ``MappedOperator``."""

    task_id: str
    upstream_task_ids: set[str]
    downstream_task_ids: set[str]
    task_group: TaskGroup | None
    trigger_rule: TriggerRule
    retries: int
    _dag: DAG | None = None
    is_mapped: bool = False
    #: Where in the DAG file the task was created ("file.py:12"), for error messages.
    created_at: str = ""

    @property
    def dag(self) -> DAG | None:
        return self._dag

    @dag.setter
    def dag(self, dag: DAG | None) -> None:
        if dag is self._dag:
            return
        if self._dag is not None and dag is not None:
            raise ValueError(
                f"task {self.task_id!r} already belongs to DAG {self._dag.dag_id!r}; "
                f"it cannot also be added to DAG {dag.dag_id!r}"
            )
        if dag is not None:
            dag.add_task(self)  # type: ignore[arg-type]
        self._dag = dag

    def has_dag(self) -> bool:
        return self._dag is not None

    @property
    def dag_id(self) -> str | None:
        return self._dag.dag_id if self._dag is not None else None

    @property
    def roots(self) -> list[AbstractOperator]:
        return [self]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [self]

    @property
    def label(self) -> str:
        """The task id without its TaskGroup prefix."""
        group = self.task_group
        if group is not None and group.group_id and group.prefix_group_id:
            prefix = group.group_id + "."
            if self.task_id.startswith(prefix):
                return self.task_id[len(prefix) :]
        return self.task_id

    def get_direct_relatives(self, upstream: bool = False) -> list[AbstractOperator]:
        assert self._dag is not None
        ids = self.upstream_task_ids if upstream else self.downstream_task_ids
        return [self._dag.task_dict[task_id] for task_id in sorted(ids)]

    @property
    def upstream_list(self) -> list[AbstractOperator]:
        return self.get_direct_relatives(upstream=True)

    @property
    def downstream_list(self) -> list[AbstractOperator]:
        return self.get_direct_relatives(upstream=False)

    def get_flat_relative_ids(self, upstream: bool = False) -> set[str]:
        """Every task id reachable downstream (or upstream) of this task."""
        assert self._dag is not None
        tasks = self._dag.task_dict
        seen: set[str] = set()
        stack = list(self.upstream_task_ids if upstream else self.downstream_task_ids)
        while stack:
            task_id = stack.pop()
            if task_id in seen:
                continue
            seen.add(task_id)
            relative = tasks[task_id]
            stack.extend(relative.upstream_task_ids if upstream else relative.downstream_task_ids)
        return seen

    def iter_mapped_dependants(self) -> list[AbstractOperator]:
        """Downstream mapped tasks whose expansion reads this task's XCom."""
        assert self._dag is not None
        result = []
        for task_id in self.downstream_task_ids:
            task = self._dag.task_dict[task_id]
            if task.is_mapped and any(op is self for op in task.iter_expansion_upstreams()):  # type: ignore[attr-defined]
                result.append(task)
        return result

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"
