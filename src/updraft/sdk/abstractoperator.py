"""What a plain task and a mapped task have in common: identity, DAG membership and dependencies."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

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
    #: Where in the DAG file the task was created ("file.py:12"), for error messages.
    created_at: str = ""
    #: Setup and teardown tasks (Airflow 2.7+): a teardown runs once its upstream tasks are done,
    #: whatever their outcome, and its own failure fails the run only with on_failure_fail_dagrun.
    is_setup: bool = False
    is_teardown: bool = False
    on_failure_fail_dagrun: bool = False

    @property
    def mapped_task_group(self) -> Any:
        """The innermost mapped task group (``my_group.expand(...)``) this task is in, or None."""
        group = self.task_group
        while group is not None:
            if getattr(group, "expand_input", None) is not None:
                return group
            group = group.parent_group
        return None

    @property
    def is_mapped(self) -> bool:
        """Whether the task expands into instances when its run reaches it (here: through its group)."""
        return self.mapped_task_group is not None

    def iter_expansion_references(self) -> list[Any]:
        """The XComArgs (of upstream tasks) whose values decide how many instances the task gets."""
        group = self.mapped_task_group
        return group.expand_input.iter_references() if group is not None else []

    def iter_expansion_upstreams(self) -> list[AbstractOperator]:
        return [ref.operator for ref in self.iter_expansion_references()]

    def expand_kwargs_at_runtime(self, context: Any, max_length: int) -> list[dict[str, Any]]:
        """One item per instance: the mapped group's expand input, resolved."""
        group = self.mapped_task_group
        if group is None:
            raise TypeError(f"task {self.task_id!r} is not mapped")
        items: list[dict[str, Any]] = group.expand_input.resolve(context, max_length)
        return items

    def __enter__(self) -> AbstractOperator:
        if not (self.is_setup or self.is_teardown):
            raise TypeError(f"task {self.task_id!r}: only a setup or teardown task can be used with `with`")
        self._scopes = [*getattr(self, "_scopes", []), SetupTeardownScope(self)]
        return self

    def __exit__(self, *exc_info: Any) -> None:
        scopes = getattr(self, "_scopes", [])
        if scopes:
            scopes.pop().close()

    def as_setup(self) -> AbstractOperator:
        """Mark this task as a setup task; returns it."""
        self.is_setup = True
        return self

    def as_teardown(self, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> AbstractOperator:
        """Mark this task as a teardown (of ``setups``, which become setups and upstream of it)."""
        self.is_teardown = True
        self.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS
        if on_failure_fail_dagrun is not None:
            self.on_failure_fail_dagrun = on_failure_fail_dagrun
        if setups is not None:
            for setup in setups if isinstance(setups, (list, tuple, set)) else [setups]:
                for operator in getattr(setup, "leaves", None) or [setup]:
                    operator.as_setup()
                setup >> self
        return self

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
            if task.is_mapped and any(op is self for op in task.iter_expansion_upstreams()):
                result.append(task)
        return result

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"


class SetupTeardownScope:
    """``with setup_task:`` / ``with teardown_task:``: tasks created in the block run between the
    setups and the teardowns: the block's first tasks get the setups upstream, its last tasks get
    the teardowns downstream (Airflow's setup/teardown context manager)."""

    def __init__(self, anchor: AbstractOperator) -> None:
        from updraft.sdk import contexts

        self.anchor = anchor
        self._contexts = contexts
        self._tracker = contexts.start_tracking()

    def close(self) -> None:
        contexts = self._contexts
        contexts.stop_tracking(self._tracker)
        created = [obj for obj in self._tracker.alive() if isinstance(obj, AbstractOperator)]
        for obj in self._tracker.alive():
            contexts.track_creation(obj)  # the enclosing tracker (the DAG file's) must see them too
        anchor = self.anchor
        dag = anchor.dag
        if dag is None:
            return
        tasks = dag.task_dict
        if anchor.is_teardown:
            teardowns = [anchor]
            setups = [tasks[t] for t in anchor.upstream_task_ids if tasks[t].is_setup]
        else:
            setups = [anchor]
            teardowns = [tasks[t] for t in anchor.downstream_task_ids if tasks[t].is_teardown]
        inside = {task.task_id for task in created} - {t.task_id for t in (*setups, *teardowns)}
        for task in created:
            if task.task_id not in inside:
                continue
            if not (task.upstream_task_ids & inside):
                for setup in setups:
                    setup >> task
            if not (task.downstream_task_ids & inside):
                for teardown in teardowns:
                    task >> teardown


def run_state_task_ids(dag: Any) -> list[str]:
    """The tasks whose states decide a run's state: the DAG's leaves, where a teardown leaf that
    does not fail the run (``on_failure_fail_dagrun``) is replaced by the tasks upstream of it."""
    tasks = dag.task_dict
    decided: list[str] = []
    seen: set[str] = set()
    pending = [task.task_id for task in dag.leaves]
    while pending:
        task_id = pending.pop()
        if task_id in seen:
            continue
        seen.add(task_id)
        task = tasks[task_id]
        if getattr(task, "is_teardown", False) and not getattr(task, "on_failure_fail_dagrun", False):
            pending.extend(task.upstream_task_ids)  # a failed setup still fails the run
        else:
            decided.append(task_id)
    return sorted(decided)
