"""The ``@task`` decorator (TaskFlow): calling a decorated function inside a DAG creates a task.

``@task``, ``@task(...)``, ``@task.python``, ``@task.branch``, ``@task.short_circuit``,
``@task.bash``, ``@task.sensor``, ``@task.external_python`` and ``@task.branch_external_python``
are supported; the other Airflow flavours (``@task.virtualenv``, ``@task.docker``...) fail at DAG
import with an error saying what to use instead. The call ``extract(1, y=2)`` inside a DAG
builds the operator with ``op_args``/``op_kwargs`` and returns an XComArg of its result; XComArgs
among the arguments make their tasks upstream. Ids are made unique like Airflow's (``name``, ``name__1``, ``name__2``...).
``.override()``, ``.partial()``, ``.expand()`` and ``.expand_kwargs()`` work as in Airflow, and
``.function`` is the plain function for unit tests. Context values reach the function through its
signature (``ti=None``, ``ds=None``, ``**context``), explicit arguments winning.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import itertools
import typing
import warnings
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from updraft.operators.bash import BashOperator
from updraft.operators.python import (
    BranchPythonOperator,
    PythonOperator,
    ShortCircuitOperator,
    determine_kwargs,
    run_callable,
)
from updraft.operators.unsupported import unsupported_flavour
from updraft.sdk import contexts
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.exceptions import DagDefinitionError, UpdraftException
from updraft.sdk.mapping import OperatorPartial
from updraft.sdk.templating import render_value
from updraft.sdk.xcom_arg import PlainXComArg

__all__ = ["KNOWN_CONTEXT_KEYS", "DecoratedOperator", "TaskDecorator", "get_unique_task_id", "task"]

#: Names a task function receives from the context when its signature asks for them.
KNOWN_CONTEXT_KEYS = frozenset(
    {
        "conf", "conn", "dag", "dag_run", "data_interval_end", "data_interval_start", "ds",
        "ds_nodash", "exception", "execution_date", "expanded_ti_count", "inlet_events", "inlets",
        "logical_date", "macros", "map_index_template", "next_ds", "next_ds_nodash",
        "next_execution_date", "outlet_events", "outlets", "params", "prev_data_interval_end_success",
        "prev_data_interval_start_success", "prev_ds", "prev_ds_nodash", "prev_end_date_success",
        "prev_execution_date", "prev_execution_date_success", "prev_start_date_success", "reason",
        "run_id", "start_date", "task", "task_instance", "task_instance_key_str",
        "task_reschedule_count", "templates_dict", "test_mode", "ti", "tomorrow_ds",
        "tomorrow_ds_nodash", "triggering_asset_events", "triggering_dataset_events", "ts",
        "ts_nodash", "ts_nodash_with_tz", "try_number", "var", "yesterday_ds", "yesterday_ds_nodash",
    }
)  # fmt: skip

_STATE_STORE_ADVICE = (
    "state stores (Airflow 3.3) are not supported by Updraft; keep state that must outlive a try "
    "in a Variable (Variable.set / Variable.get) or in a table of your own"
)
#: Context values of newer Airflow versions that Updraft lacks: asking for one fails at import.
UNSUPPORTED_CONTEXT_KEYS = {"task_state_store": _STATE_STORE_ADVICE, "asset_state_store": _STATE_STORE_ADVICE}

#: Flavours Airflow has and updraft does not run: using one fails at DAG import, saying what to
#: use instead (``updraft.operators.unsupported``).
UNSUPPORTED_FLAVOURS = frozenset(
    {
        "virtualenv", "branch_virtualenv", "docker", "kubernetes", "kubernetes_cmd", "pyspark",
        "snowpark", "run_if", "skip_if",
    }
)  # fmt: skip

#: Flavours provided by other modules, imported on first use: name -> "module:OperatorClass".
EXTRA_FLAVOURS: dict[str, str] = {
    "sensor": "updraft.operators.sensors.python:DecoratedSensorOperator",
    "external_python": "updraft.operators.external_python:ExternalPythonDecoratedOperator",
    "branch_external_python": "updraft.operators.external_python:BranchExternalPythonDecoratedOperator",
}


class _SuffixIndex:
    """Per DAG: the highest ``__N`` suffix in use for each task id core, updated incrementally."""

    def __init__(self) -> None:
        self.seen = 0
        self.highest: dict[str, int] = {}

    def refresh(self, task_ids: dict[str, Any]) -> None:
        if len(task_ids) < self.seen:  # tasks were removed: start over
            self.seen, self.highest = 0, {}
        for task_id in itertools.islice(task_ids, self.seen, None):
            core, suffix = _split_suffix(task_id)
            if suffix:
                self.highest[core] = max(self.highest.get(core, 0), int(suffix))
        self.seen = len(task_ids)


_suffix_indexes: weakref.WeakKeyDictionary[Any, _SuffixIndex] = weakref.WeakKeyDictionary()


def get_unique_task_id(task_id: str, dag: Any = None, task_group: Any = None) -> str:
    """``task_id``, or ``task_id__N`` (N one more than the highest in use) when it is taken."""
    dag = dag or contexts.current_dag()
    if dag is None:
        return task_id
    group = task_group or contexts.current_task_group(dag)
    full_id = group.child_id(task_id) if group is not None else task_id
    if full_id not in dag.task_dict:
        return task_id
    index = _suffix_indexes.get(dag)
    if index is None:
        index = _suffix_indexes[dag] = _SuffixIndex()
    index.refresh(dag.task_dict)
    full_core, _ = _split_suffix(full_id)
    core, _ = _split_suffix(task_id)
    return f"{core}__{index.highest.get(full_core, 0) + 1}"


def _split_suffix(task_id: str) -> tuple[str, str]:
    core, sep, suffix = task_id.rpartition("__")
    if sep and suffix.isdigit():
        return core, suffix
    return task_id, ""


def _binding_signature(func: Callable[..., Any]) -> inspect.Signature:
    """``func``'s signature with context parameters made optional (the runtime fills them)."""
    try:
        return _binding_signature_cached(func)
    except TypeError:  # an unhashable callable
        return _make_binding_signature(func)


def _make_binding_signature(func: Callable[..., Any]) -> inspect.Signature:
    signature = inspect.signature(func)
    parameters = [
        p.replace(default=None) if p.name in KNOWN_CONTEXT_KEYS and p.default is p.empty else p
        for p in signature.parameters.values()
    ]
    try:
        return signature.replace(parameters=parameters)
    except ValueError as exc:
        raise DagDefinitionError(
            f"task function {_name(func)!r}: a context parameter without a default comes before "
            f"parameters that need a value; give it a default (e.g. ti=None) or move it last ({exc})"
        ) from None


_binding_signature_cached = lru_cache(maxsize=1024)(_make_binding_signature)


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__name__", None) or repr(func)


class DecoratedOperator(BaseOperator):
    """Base of the operators behind ``@task``: holds the function and the call's arguments."""

    template_fields: ClassVar[Sequence[str]] = ("op_args", "op_kwargs")
    shallow_copy_attrs: ClassVar[Sequence[str]] = ("python_callable",)
    #: Whether the next class in the MRO takes python_callable/op_args/op_kwargs itself.
    _forward_callable = True

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        task_id: str,
        op_args: Sequence[Any] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        multiple_outputs: bool = False,
        default_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        task_id = get_unique_task_id(task_id, kwargs.get("dag"), kwargs.get("task_group"))
        op_args = list(op_args or ())
        op_kwargs = dict(op_kwargs or {})
        signature = _binding_signature(python_callable)
        if default_args:
            # Airflow fills function arguments from default_args (context names excepted).
            positional = set(list(signature.parameters)[: len(op_args)])
            for name in signature.parameters:
                if (
                    name in default_args
                    and name not in op_kwargs
                    and name not in positional
                    and name not in KNOWN_CONTEXT_KEYS
                ):
                    op_kwargs[name] = default_args[name]
        try:
            signature.bind(*op_args, **op_kwargs)
        except TypeError as exc:
            raise TypeError(f"task {task_id!r}: cannot call {_name(python_callable)}(): {exc}") from None
        self.python_callable = python_callable
        self.op_args: Collection[Any] = op_args
        self.op_kwargs: Mapping[str, Any] = op_kwargs
        if self._forward_callable:
            kwargs.update(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs)
        super().__init__(
            task_id=task_id, multiple_outputs=multiple_outputs, default_args=default_args, **kwargs
        )


class _PythonDecoratedOperator(DecoratedOperator, PythonOperator):
    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")
    custom_operator_name = "@task"


class _BranchPythonDecoratedOperator(DecoratedOperator, BranchPythonOperator):
    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")
    custom_operator_name = "@task.branch"


class _ShortCircuitDecoratedOperator(DecoratedOperator, ShortCircuitOperator):
    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")
    custom_operator_name = "@task.short_circuit"


class _NotSet:
    def __repr__(self) -> str:
        return "<bash command returned by the task function>"


_COMMAND_NOT_SET: Any = _NotSet()


class _BashDecoratedOperator(DecoratedOperator, BashOperator):
    """The function returns the command; it is rendered as a template and run like BashOperator."""

    template_fields: ClassVar[Sequence[str]] = ("op_args", "op_kwargs", "bash_command", "env", "cwd")
    custom_operator_name = "@task.bash"
    _forward_callable = False

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("bash_command", None)
        # With multiple_outputs, the output_processor's dict becomes one XCom per key.
        super().__init__(bash_command=_COMMAND_NOT_SET, **kwargs)

    def execute(self, context: Any) -> Any:
        context.update(self.op_kwargs)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        command = run_callable(self.python_callable, list(self.op_args), kwargs, self.log)
        if not isinstance(command, str) or not command.strip():
            raise UpdraftException(
                f"task {self.task_id!r}: the @task.bash function must return a non-empty string "
                f"(the command to run), got {command!r}"
            )
        self._unrendered_bash_command = command
        self.bash_command = render_value(
            command, context, self.get_template_env(), task=self, field="bash_command"
        )
        return super().execute(context)


def _infer_multiple_outputs(function: Callable[..., Any]) -> bool:
    """True when the function is annotated to return a dict (``dict``, ``Dict[...]``, a TypedDict)."""
    annotations = getattr(function, "__annotations__", {})
    if "return" not in annotations:
        return False

    def probe() -> None: ...

    probe.__annotations__ = {"return": annotations["return"]}
    try:
        return_type = typing.get_type_hints(probe, getattr(function, "__globals__", None)).get("return")
    except NameError as exc:
        warnings.warn(
            f"cannot infer multiple_outputs for task function {function.__name__!r}: its return "
            f"annotation names something not imported ({exc})",
            stacklevel=4,
        )
        return False
    except Exception:  # noqa: BLE001 - an annotation we cannot evaluate just means "no inference"
        return False
    origin = typing.get_origin(return_type) or return_type
    if origin is dict or typing.is_typeddict(return_type):
        return True
    return isinstance(origin, type) and issubclass(origin, dict)


class TaskFlowPartial(OperatorPartial):
    """``my_task.partial(...)``: ``expand``/``expand_kwargs`` return an XComArg, as in Airflow."""

    def expand(self, **mapped_kwargs: Any) -> PlainXComArg:  # type: ignore[override]
        self._check_context_names(mapped_kwargs, "expand")
        fixed = self.kwargs.get("op_kwargs") or {}
        both = sorted(set(fixed) & set(mapped_kwargs))
        if both:
            raise DagDefinitionError(
                f"task {self.kwargs['task_id']!r}: {', '.join(map(repr, both))} given to both "
                "partial() and expand()"
            )
        return PlainXComArg(super().expand(**mapped_kwargs))

    def expand_kwargs(self, kwargs_list: Any) -> PlainXComArg:  # type: ignore[override]
        if isinstance(kwargs_list, (list, tuple)):
            for item in kwargs_list:
                if isinstance(item, dict):
                    self._check_context_names(item, "expand_kwargs")
        return PlainXComArg(super().expand_kwargs(kwargs_list))

    def _check_context_names(self, names: Any, method: str) -> None:
        shadowed = sorted(KNOWN_CONTEXT_KEYS.intersection(names))
        if shadowed:
            raise DagDefinitionError(
                f"task {self.kwargs['task_id']!r}: cannot call {method}() on task context "
                f"variable(s) {', '.join(map(repr, shadowed))}"
            )


class TaskDecorator:
    """A function decorated with ``@task``: call it in a DAG to add a task."""

    def __init__(
        self,
        function: Callable[..., Any],
        operator_class: type[BaseOperator],
        multiple_outputs: bool | None = None,
        kwargs: dict[str, Any] | None = None,
        decorator_name: str = "task",
    ) -> None:
        if not callable(function):
            raise TypeError(f"@{decorator_name} needs a function, got {function!r}")
        self.function = function
        self.operator_class = operator_class
        self.decorator_name = decorator_name
        self.kwargs = dict(kwargs or {})
        self.kwargs.setdefault("task_id", function.__name__)
        self._explicit_multiple_outputs = multiple_outputs
        self.multiple_outputs = (
            multiple_outputs if multiple_outputs is not None else _infer_multiple_outputs(function)
        )
        self.function_signature = inspect.signature(function)
        if "self" in self.function_signature.parameters:
            raise TypeError(f"@{decorator_name} does not support methods ({function.__qualname__})")
        for name in UNSUPPORTED_CONTEXT_KEYS.keys() & self.function_signature.parameters.keys():
            raise DagDefinitionError(
                f"@{decorator_name} {function.__qualname__} asks for {name!r}: "
                f"{UNSUPPORTED_CONTEXT_KEYS[name]}"
            )
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            if hasattr(function, attr):
                setattr(self, attr, getattr(function, attr))

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.function

    def __repr__(self) -> str:
        return f"<@{self.decorator_name} {self.function.__qualname__}>"

    def _dag(self) -> Any:
        dag = self.kwargs.get("dag")
        group = self.kwargs.get("task_group")
        if dag is None and group is not None:
            dag = group.dag
        return dag or contexts.current_dag()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._dag() is None:
            # Outside a DAG (a unit test, say): just run the function.
            return self.function(*args, **kwargs)
        operator = self.operator_class(
            python_callable=self.function,
            op_args=args,
            op_kwargs=kwargs,
            multiple_outputs=self.multiple_outputs,
            **self.kwargs,
        )
        if self.function.__doc__ and not any(
            getattr(operator, name, None) for name in ("doc", "doc_md", "doc_json", "doc_yaml", "doc_rst")
        ):
            operator.doc_md = self.function.__doc__
        return PlainXComArg(operator)

    def override(self, **kwargs: Any) -> TaskDecorator:
        """The same task function with other operator arguments (``task_id``, ``retries``...)."""
        result = copy.copy(self)
        if "multiple_outputs" in kwargs:
            result._explicit_multiple_outputs = result.multiple_outputs = kwargs.pop("multiple_outputs")
        result.kwargs = {**self.kwargs, **kwargs}
        return result

    def _accepted_names(self) -> Sequence[str] | None:
        """The argument names mapping may use; None when the function takes ``**kwargs``."""
        parameters = self.function_signature.parameters
        if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            return None
        return tuple(name for name in parameters if name not in KNOWN_CONTEXT_KEYS)

    def partial(self, **kwargs: Any) -> TaskFlowPartial:
        """Fix some function arguments for every mapped instance; finish with ``.expand(...)``."""
        options = dict(self.kwargs)
        dag = options.get("dag") or self._dag()
        task_id = get_unique_task_id(options.pop("task_id"), dag, options.get("task_group"))
        accepted = self._accepted_names()
        unknown = [] if accepted is None else sorted(name for name in kwargs if name not in accepted)
        if unknown:
            raise TypeError(
                f"task {task_id!r}: partial() got unexpected argument(s) {', '.join(map(repr, unknown))}"
            )
        try:
            _binding_signature(self.function).bind_partial(**kwargs)
        except TypeError as exc:
            raise TypeError(f"task {task_id!r}: {exc}") from None
        options.update(
            task_id=task_id,
            python_callable=self.function,
            op_args=[],
            op_kwargs=dict(kwargs),
            multiple_outputs=self.multiple_outputs,
        )
        if dag is not None:
            options["dag"] = dag
        return TaskFlowPartial(self.operator_class, options, expand_into="op_kwargs", accepted=accepted)

    def expand(self, **kwargs: Any) -> PlainXComArg:
        """One task instance per value (the cross product for several arguments)."""
        return self.partial().expand(**kwargs)

    def expand_kwargs(self, kwargs_list: Any) -> PlainXComArg:
        """One task instance per dict of arguments (a list of dicts or an XComArg of one)."""
        return self.partial().expand_kwargs(kwargs_list)


class _Flavour:
    """``task.<flavour>``: a decorator usable bare (``@task.branch``) or called (``@task.branch(...)``)."""

    def __init__(self, name: str, operator_class: type[BaseOperator]) -> None:
        self.name = name
        self.operator_class = operator_class

    def __call__(
        self,
        python_callable: Callable[..., Any] | None = None,
        *,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        decorator_name = "task" if self.name == "python" else f"task.{self.name}"
        if python_callable is not None:
            if not callable(python_callable):
                raise TypeError(f"@{decorator_name} takes keyword arguments only, not {python_callable!r}")
            return TaskDecorator(
                python_callable, self.operator_class, multiple_outputs, kwargs, decorator_name
            )

        def decorate(function: Callable[..., Any]) -> TaskDecorator:
            return TaskDecorator(function, self.operator_class, multiple_outputs, kwargs, decorator_name)

        return decorate


class TaskDecoratorCollection:
    """The ``task`` object: ``@task`` itself plus ``@task.branch``, ``@task.bash``..."""

    python = _Flavour("python", _PythonDecoratedOperator)
    branch = _Flavour("branch", _BranchPythonDecoratedOperator)
    short_circuit = _Flavour("short_circuit", _ShortCircuitDecoratedOperator)
    bash = _Flavour("bash", _BashDecoratedOperator)

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self.python(python_callable, **kwargs)

    def __getattr__(self, name: str) -> Any:
        target = EXTRA_FLAVOURS.get(name)
        if target is not None:
            module_name, _, class_name = target.partition(":")
            flavour = _Flavour(name, getattr(importlib.import_module(module_name), class_name))
            setattr(type(self), name, flavour)
            return flavour
        if name in UNSUPPORTED_FLAVOURS:
            return _UnsupportedFlavour(name)
        raise AttributeError(f"there is no @task.{name} decorator")


class _UnsupportedFlavour:
    """``task.<flavour>`` for a flavour updraft lacks: using it (``@task.virtualenv``, with or
    without arguments) raises NotSupportedByUpdraft, naming the flavour and what to use instead."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        unsupported_flavour(self.name)


task = TaskDecoratorCollection()
