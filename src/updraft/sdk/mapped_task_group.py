"""Mapping over a task group: ``@task_group`` functions with ``.expand()``, ``.expand_kwargs()``
and ``.partial()``.

Every task created inside a ``MappedTaskGroup`` is mapped: when its run reaches it, it expands into
one instance per item of the group's expand input. The group function receives a
``MappedArgument`` for each mapped parameter; it resolves, in instance ``i``, to the value of item
``i``. XComs pulled from a task of the same mapped group come from the instance with the same map
index, so ``mul_2(add_1(num))`` inside the group chains each item on its own.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from updraft.sdk.exceptions import DagDefinitionError
from updraft.sdk.mapping import DictOfListsExpandInput, ExpandInput, ListOfDictsExpandInput, MappedOperator
from updraft.sdk.taskgroup import TaskGroup
from updraft.sdk.xcom_arg import Resolvable, XComArg

if TYPE_CHECKING:
    from updraft.sdk.abstractoperator import AbstractOperator


class MappedTaskGroup(TaskGroup):
    """A task group whose tasks expand together, one instance of each per item of ``expand_input``."""

    def __init__(self, *, expand_input: ExpandInput, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expand_input = expand_input
        if self.parent_group is not None and mapped_group_of_group(self.parent_group) is not None:
            raise DagDefinitionError(
                f"task group {self.group_id!r}: a mapped task group inside another mapped task group "
                "is not supported by Updraft; map the outer group only"
            )

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        if exc and exc[0] is not None:
            return
        for task in self.iter_tasks():
            if isinstance(task, MappedOperator):
                raise DagDefinitionError(
                    f"task {task.task_id!r}: a mapped task (.expand) inside the mapped task group "
                    f"{self.group_id!r} is not supported by Updraft; every task of a mapped group is "
                    "already mapped over the group's input"
                )
        # The tasks that produce the group's input run before the group's first tasks.
        producers = {id(ref.operator): ref.operator for ref in self.expand_input.iter_references()}
        if producers:
            roots = self.roots
            for producer in producers.values():
                for root in roots:
                    root.set_upstream(producer)

    def __repr__(self) -> str:
        return f"<MappedTaskGroup: {self.group_id}>"


def mapped_group_of_group(group: TaskGroup | None) -> MappedTaskGroup | None:
    """The innermost mapped task group that is ``group`` or encloses it."""
    while group is not None:
        if isinstance(group, MappedTaskGroup):
            return group
        group = group.parent_group
    return None


class MappedArgument(Resolvable):
    """One parameter of a mapped task group function: in instance ``i``, the value of item ``i``."""

    def __init__(self, group: MappedTaskGroup, name: str) -> None:
        self.group = group
        self.name = name

    def resolve(self, context: Any) -> Any:
        ti = context["ti"]
        if ti.map_index < 0:
            raise DagDefinitionError(
                f"task {ti.task_id!r} reads the mapped group argument {self.name!r} before its group "
                "was expanded"
            )
        items = self.group.expand_input.resolve(context, sys.maxsize)
        return items[ti.map_index][self.name]

    def __repr__(self) -> str:
        return f"MappedArgument({self.group.group_id!r}, {self.name!r})"


def _check_values(group_id: str, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if not isinstance(value, (list, tuple, dict, XComArg)):
            raise DagDefinitionError(
                f"task group {group_id!r}: expand() argument {name!r} must be a list, tuple, dict or "
                f"XComArg, got {type(value).__name__}"
            )


def expand_task_group(
    func: Callable[..., Any],
    options: dict[str, Any],
    partial_kwargs: dict[str, Any],
    expand_input: ExpandInput,
) -> Any:
    """Build the mapped group of ``func`` (the body of ``my_group.expand(...)``)."""
    group_id = str(options.get("group_id") or func.__name__)
    parameters = inspect.signature(func).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    if isinstance(expand_input, DictOfListsExpandInput):
        names = list(expand_input.value)
        if not names:
            raise TypeError(f"task group {group_id!r}: expand() needs at least one argument")
        _check_values(group_id, expand_input.value)
    else:
        assert isinstance(expand_input, ListOfDictsExpandInput)
        value = expand_input.value
        if not isinstance(value, (list, tuple, XComArg)):
            raise DagDefinitionError(
                f"task group {group_id!r}: expand_kwargs() needs a list of dicts or an XComArg"
            )
        given = [item for item in value if isinstance(item, dict)] if isinstance(value, (list, tuple)) else []
        names = [
            n
            for n in parameters
            if n not in partial_kwargs and parameters[n].kind != parameters[n].VAR_KEYWORD
        ]
        names = list(dict.fromkeys([*names, *(key for item in given for key in item)]))
    for name in names:
        if name not in parameters and not takes_any:
            raise DagDefinitionError(
                f"task group {group_id!r}: cannot expand over {name!r}: {func.__name__}() takes no "
                "argument of that name"
            )
        if name in partial_kwargs:
            raise DagDefinitionError(
                f"task group {group_id!r}: {name!r} is given to both partial() and expand()"
            )
    group = MappedTaskGroup(expand_input=expand_input, **options)
    with group:
        call_kwargs = dict(partial_kwargs)
        call_kwargs.update({name: MappedArgument(group, name) for name in names})
        result = func(**call_kwargs)
    return result if result is not None else group


def group_mapped_tasks(tasks: list[AbstractOperator]) -> list[AbstractOperator]:
    """The tasks among ``tasks`` that are mapped through their task group."""
    return [t for t in tasks if mapped_group_of_group(t.task_group) is not None]
