"""Dynamic task mapping: ``Operator.partial(...).expand(...)`` and ``.expand_kwargs(...)``.

A ``MappedOperator`` stands in the DAG for a task whose number of instances is only known when
its run reaches it. At that point the expand input is resolved into one set of keyword
arguments per map index (a cross product for several ``expand`` arguments, in
``itertools.product`` order) and each index gets a real operator built by ``unmap``.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from updraft.sdk import contexts
from updraft.sdk.abstractoperator import AbstractOperator, validate_key
from updraft.sdk.baseoperator import BaseOperator, _merged_default_args
from updraft.sdk.exceptions import DagDefinitionError, MapLengthError
from updraft.sdk.trigger_rule import parse_trigger_rule
from updraft.sdk.xcom_arg import PlainXComArg, Resolvable, XComArg, resolve_value

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG
    from updraft.sdk.taskgroup import TaskGroup

#: Arguments that identify a task and can never be mapped over.
UNMAPPABLE = frozenset({"task_id", "dag", "task_group", "default_args", "pool", "queue", "trigger_rule"})


def operator_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """Every keyword parameter accepted along the class's ``__init__`` chain."""
    found: dict[str, inspect.Parameter] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for name, param in inspect.signature(inspect.unwrap(init)).parameters.items():
            if name != "self" and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                found[name] = param
    return found


class OperatorPartial:
    """The shared half of a mapped task; becomes a MappedOperator with ``expand``."""

    def __init__(
        self,
        operator_class: type[BaseOperator],
        kwargs: dict[str, Any],
        expand_into: str | None = None,
        accepted: Sequence[str] | None = None,
    ) -> None:
        if "task_id" not in kwargs:
            raise TypeError(f"{operator_class.__name__}.partial() needs task_id")
        self.operator_class = operator_class
        self.kwargs = dict(kwargs)
        self.dag: DAG | None = self.kwargs.pop("dag", None) or contexts.current_dag()
        self.task_group: TaskGroup | None = self.kwargs.pop(
            "task_group", None
        ) or contexts.current_task_group(self.dag)
        self.default_args = _merged_default_args(
            self.dag, self.task_group, self.kwargs.pop("default_args", None)
        )
        #: For TaskFlow tasks, mapped values go into this argument (``op_kwargs``) instead, and
        #: ``accepted`` lists the names they may use (None: any name, for ``**kwargs``).
        self.expand_into = expand_into
        self.accepted = accepted
        self.expanded = False
        contexts.track_creation(self)

    def _check_names(self, names: Sequence[str]) -> None:
        task_id = self.kwargs["task_id"]
        valid: Sequence[str] | dict[str, Any] | None = (
            self.accepted if self.expand_into is not None else operator_parameters(self.operator_class)
        )
        for name in names:
            if name in UNMAPPABLE and self.expand_into is None:
                raise DagDefinitionError(f"task {task_id!r}: {name!r} cannot be mapped over")
            if valid is not None and name not in valid:
                raise DagDefinitionError(
                    f"task {task_id!r}: cannot expand over {name!r}: "
                    f"{self.operator_class.__name__} takes no argument of that name"
                )
            if name in self.kwargs:
                raise DagDefinitionError(
                    f"task {task_id!r}: {name!r} is given to both partial() and expand()"
                )

    def expand(self, **mapped_kwargs: Any) -> MappedOperator:
        """Map over one or more arguments; several give the cross product of their values."""
        if not mapped_kwargs:
            raise TypeError(f"task {self.kwargs['task_id']!r}: expand() needs at least one argument")
        self._check_names(list(mapped_kwargs))
        for name, value in mapped_kwargs.items():
            if not isinstance(value, (list, tuple, dict, XComArg)):
                raise DagDefinitionError(
                    f"task {self.kwargs['task_id']!r}: expand() argument {name!r} must be a list, "
                    f"tuple, dict or XComArg, got {type(value).__name__}"
                )
        return self._finish(DictOfListsExpandInput(mapped_kwargs))

    def expand_kwargs(self, kwargs_list: Any) -> MappedOperator:
        """One instance per dict in ``kwargs_list`` (a list of dicts, or an XComArg of one)."""
        if isinstance(kwargs_list, (list, tuple)):
            for index, item in enumerate(kwargs_list):
                if not isinstance(item, (dict, XComArg)):
                    raise DagDefinitionError(
                        f"task {self.kwargs['task_id']!r}: expand_kwargs() item {index} must be a dict"
                    )
                if isinstance(item, dict):
                    self._check_names(list(item))
        elif not isinstance(kwargs_list, XComArg):
            raise DagDefinitionError(
                f"task {self.kwargs['task_id']!r}: expand_kwargs() needs a list of dicts or an XComArg"
            )
        return self._finish(ListOfDictsExpandInput(kwargs_list))

    def _finish(self, expand_input: ExpandInput) -> MappedOperator:
        self.expanded = True
        return MappedOperator(self, expand_input)


class ExpandInput:
    value: Any

    def iter_references(self) -> list[PlainXComArg]:
        return list(XComArg.iter_xcom_args(self.value))

    def resolve(self, context: Any, max_length: int) -> list[dict[str, Any]]:
        raise NotImplementedError


def _check_length(task_id: str, length: int, max_length: int) -> None:
    if length > max_length:
        raise MapLengthError(
            f"mapped task {task_id!r} would expand into {length} instances, over the limit of "
            f"{max_length} (core.max_map_length)"
        )


def _as_items(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None:
        return []
    raise TypeError(f"cannot map over a value of type {type(value).__name__}; expected a list or dict")


class DictOfListsExpandInput(ExpandInput):
    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def resolve(self, context: Any, max_length: int) -> list[dict[str, Any]]:
        names = list(self.value)
        columns = [_as_items(resolve_value(self.value[name], context)) for name in names]
        total = 1
        for column in columns:
            total *= len(column)
        _check_length(context["ti"].task_id, total, max_length)
        return [dict(zip(names, combo)) for combo in itertools.product(*columns)]


class ListOfDictsExpandInput(ExpandInput):
    def __init__(self, value: Any) -> None:
        self.value = value

    def resolve(self, context: Any, max_length: int) -> list[dict[str, Any]]:
        resolved = resolve_value(self.value, context)
        if not isinstance(resolved, (list, tuple)):
            raise TypeError(f"expand_kwargs() needs a list of dicts, got {type(resolved).__name__}")
        _check_length(context["ti"].task_id, len(resolved), max_length)
        for index, item in enumerate(resolved):
            if not isinstance(item, dict):
                raise TypeError(f"expand_kwargs() item {index} is a {type(item).__name__}, not a dict")
        return [dict(item) for item in resolved]


class MappedOperator(AbstractOperator):
    """A task that becomes N instances (map_index 0..N-1) when its run reaches it."""

    @property
    def is_mapped(self) -> bool:
        return True

    def __init__(self, partial: OperatorPartial, expand_input: ExpandInput) -> None:
        self.operator_class = partial.operator_class
        self.partial_kwargs = partial.kwargs
        self.default_args = partial.default_args
        self.expand_input = expand_input
        self.expand_into = partial.expand_into
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        dag, group = partial.dag, partial.task_group
        where = f"in DAG {dag.dag_id!r}" if dag is not None else ""
        label = validate_key("task_id", partial.kwargs["task_id"], where)
        self.task_id = group.child_id(label) if group is not None else label
        self.task_group = None
        self._attrs = self._effective_arguments()
        self.trigger_rule = parse_trigger_rule(self._attrs.get("trigger_rule", "all_success"))
        retries = self._attrs.get("retries")
        self.retries = int(retries) if retries is not None else 0
        if self.retries < 0:
            raise ValueError(
                f"task {self.task_id!r} {where}: retries must not be negative, got {self.retries}"
            )
        delay = self._attrs.get("retry_delay", 300.0)
        self.retry_delay = delay if isinstance(delay, timedelta) else timedelta(seconds=delay)
        self.pool = self._attrs.get("pool") or "default_pool"
        self.pool_slots = int(self._attrs.get("pool_slots", 1))
        self.priority_weight = int(self._attrs.get("priority_weight", 1))
        self.weight_rule = self._attrs.get("weight_rule", "downstream")
        self.queue = self._attrs.get("queue", "default")
        self.owner = self._attrs.get("owner") or "airflow"
        self.depends_on_past = bool(self._attrs.get("depends_on_past", False))
        self.wait_for_downstream = bool(self._attrs.get("wait_for_downstream", False))
        if dag is not None:
            self.dag = dag
        if group is not None:
            group.add(self)
        for ref in [*expand_input.iter_references(), *XComArg.iter_xcom_args(self.partial_kwargs)]:
            self.set_upstream(ref.operator)
        contexts.track_creation(self)

    def _effective_arguments(self) -> dict[str, Any]:
        params = operator_parameters(self.operator_class)
        attrs = {name: p.default for name, p in params.items() if p.default is not inspect.Parameter.empty}
        attrs.update({k: v for k, v in self.default_args.items() if k in params})
        attrs.update(self.partial_kwargs)
        return attrs

    @property
    def output(self) -> Any:
        """The mapped task's return values (one per map index), as an XComArg for other tasks."""
        from updraft.sdk.xcom_arg import PlainXComArg

        return PlainXComArg(self)

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set in __init__: fall back to the operator's arguments.
        attrs = self.__dict__.get("_attrs")
        if attrs is not None and name in attrs:
            return attrs[name]
        operator_class = self.__dict__.get("operator_class")
        if operator_class is not None and hasattr(operator_class, name) and not name.startswith("__"):
            value = getattr(operator_class, name)
            if isinstance(value, property):
                raise AttributeError(
                    f"{type(self).__name__} {self.__dict__.get('task_id')!r}: {name!r} is only known "
                    "per mapped task instance, at run time"
                )
            return value
        raise AttributeError(
            f"{type(self).__name__} {self.__dict__.get('task_id')!r} has no attribute {name!r}"
        )

    @property
    def operator_name(self) -> str:
        return self.operator_class.custom_operator_name or self.operator_class.__name__

    @property
    def task_type(self) -> str:
        return self.operator_class.__name__

    @property
    def template_fields(self) -> Sequence[str]:
        return self.operator_class.template_fields

    def iter_expansion_references(self) -> list[PlainXComArg]:
        return self.expand_input.iter_references()

    def expand_kwargs_at_runtime(self, context: Any, max_length: int) -> list[dict[str, Any]]:
        """Resolve the expand input into one kwargs dict per map index."""
        return self.expand_input.resolve(context, max_length)

    def unmap(self, mapped_kwargs: dict[str, Any]) -> BaseOperator:
        """Build the real operator for one map index, attached to this task's place in the DAG."""
        kwargs = dict(self.partial_kwargs)
        if self.expand_into is not None:
            merged = dict(kwargs.get(self.expand_into) or {})
            merged.update(mapped_kwargs)
            kwargs[self.expand_into] = merged
        else:
            kwargs.update(mapped_kwargs)
        kwargs["default_args"] = self.default_args
        with contexts.isolated():
            operator = self.operator_class(**kwargs)
        state = operator.__dict__
        state["task_id"] = self.task_id
        state["_dag"] = self._dag
        state["task_group"] = self.task_group
        state["upstream_task_ids"] = self.upstream_task_ids
        state["downstream_task_ids"] = self.downstream_task_ids
        return operator

    @property
    def partial_resolvables(self) -> bool:
        return any(isinstance(v, Resolvable) for v in self.partial_kwargs.values())
