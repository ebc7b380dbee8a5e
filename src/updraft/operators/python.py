"""Run a Python callable as a task: ``PythonOperator``, ``BranchPythonOperator``, ``ShortCircuitOperator``.

The callable gets ``op_args`` positionally and, by keyword, those context values its signature
asks for (``ti``, ``ds``, ``params``... or everything with ``**context``/``**kwargs``), with
``op_kwargs`` overriding context values of the same name, exactly as in Airflow 2 and 3.
``determine_kwargs`` implements that choice; it inspects each callable's signature only once.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

from updraft.operators.branch import BranchMixIn
from updraft.sdk.assets import Metadata, asset_outlets
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.current_context import get_current_context
from updraft.sdk.exceptions import UpdraftException

__all__ = ["BranchPythonOperator", "PythonOperator", "ShortCircuitOperator", "determine_kwargs"]


class _CallableInfo(NamedTuple):
    #: Names of the parameters, in order, with their kinds.
    parameters: tuple[tuple[str, Any], ...]
    names: frozenset[str]
    has_var_keyword: bool
    is_generator: bool
    is_coroutine: bool


def _inspect(func: Callable[..., Any]) -> _CallableInfo:
    parameters = inspect.signature(func).parameters
    return _CallableInfo(
        parameters=tuple((name, p.kind) for name, p in parameters.items()),
        names=frozenset(parameters),
        has_var_keyword=any(p.kind is p.VAR_KEYWORD for p in parameters.values()),
        is_generator=inspect.isgeneratorfunction(func),
        is_coroutine=inspect.iscoroutinefunction(func),
    )


_inspect_cached = lru_cache(maxsize=2048)(_inspect)


def callable_info(func: Callable[..., Any]) -> _CallableInfo:
    """Signature facts about ``func``, cached per callable."""
    try:
        return _inspect_cached(func)
    except TypeError:  # an unhashable callable object
        return _inspect(func)


def determine_kwargs(
    func: Callable[..., Any], op_args: Collection[Any], context_and_op_kwargs: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The keyword arguments to call ``func(*op_args, **result)`` with.

    With ``**kwargs`` in its signature, ``func`` gets the whole mapping; otherwise only the names
    it declares. A positional argument whose parameter name is also a key of the mapping (a
    context variable such as ``ds``) is an error, as in Airflow.
    """
    info = callable_info(func)
    for name, kind in itertools.islice(info.parameters, len(op_args)):
        if kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD):
            continue
        if kind is inspect.Parameter.VAR_POSITIONAL:
            break
        if name in context_and_op_kwargs:
            raise ValueError(
                f"The key {name!r} in args is a part of kwargs and therefore reserved: "
                f"{getattr(func, '__name__', func)!r} gets {name!r} positionally from op_args, but "
                "it is also a context variable or an op_kwargs key"
            )
    if info.has_var_keyword:
        return context_and_op_kwargs
    return {name: context_and_op_kwargs[name] for name in info.names if name in context_and_op_kwargs}


def _run_coroutine(func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
    """Await an async callable: on a fresh event loop, in a helper thread if this thread already
    runs one (e.g. a task tested from a notebook or an async test harness)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(func(*args, **kwargs))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, func(*args, **kwargs)).result()


def run_callable(func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], log: Any) -> Any:
    """Call ``func``; a generator is exhausted (its return value is the result), a coroutine awaited.

    A generator may ``yield Metadata(asset, extra)``: the extra goes onto the event the task emits
    for that asset, as ``outlet_events[asset].extra`` would.
    """
    info = callable_info(func)
    if info.is_coroutine:
        return _run_coroutine(func, args, kwargs)
    if not info.is_generator:
        return func(*args, **kwargs)
    generator = func(*args, **kwargs)
    while True:
        try:
            item = next(generator)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Metadata):
            _add_metadata(item, log)
        else:
            log.warning("Ignoring a value of type %s yielded by the task callable", type(item).__name__)


def _add_metadata(metadata: Metadata, log: Any) -> None:
    context = get_current_context()
    task = context.get("task")
    outlets = {outlet.key for outlet in asset_outlets(getattr(task, "outlets", None))}
    if metadata.asset.key not in outlets:
        log.warning(
            "Metadata for %r is ignored: the task emits events only for the assets in its outlets",
            metadata.asset,
        )
    context["outlet_events"].add_metadata(metadata)


class PythonOperator(BaseOperator):
    """Call ``python_callable(*op_args, **op_kwargs)``, plus the context values it asks for.

    ``op_args``, ``op_kwargs`` and ``templates_dict`` are templated; the rendered
    ``templates_dict`` is passed to the callable (and put in the context) as ``templates_dict``.
    """

    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers = {"templates_dict": "json", "op_args": "py", "op_kwargs": "py"}
    ui_color = "#ffefeb"
    shallow_copy_attrs: ClassVar[Sequence[str]] = ("python_callable", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise UpdraftException(
                f"task {self.task_id!r}: python_callable must be callable, got {python_callable!r}"
            )
        self.python_callable = python_callable
        self.op_args = op_args or ()
        self.op_kwargs = op_kwargs or {}
        self.templates_dict = templates_dict
        if templates_exts:
            self.template_ext = templates_exts  # type: ignore[misc]
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context: Any) -> Any:
        context.update(self.op_kwargs)
        context["templates_dict"] = self.templates_dict
        self.op_kwargs = self.determine_kwargs(context)
        result = self.execute_callable()
        if self.show_return_value_in_logs:
            self.log.info("Done. Returned value was: %s", result)
        else:
            self.log.info("Done. Returned value not shown")
        return result

    def determine_kwargs(self, context: Mapping[str, Any]) -> Mapping[str, Any]:
        return determine_kwargs(self.python_callable, self.op_args, context)

    def execute_callable(self) -> Any:
        """Call the callable with ``op_args`` and the keyword arguments chosen in ``execute``."""
        return run_callable(self.python_callable, list(self.op_args), self.op_kwargs, self.log)


class BranchPythonOperator(BranchMixIn, PythonOperator):
    """The callable returns the task id(s) (or TaskGroup ids) to follow; other direct branches are skipped."""

    def execute(self, context: Any) -> Any:
        return self.do_branch(context, PythonOperator.execute(self, context))


class ShortCircuitOperator(PythonOperator):
    """Continue only when the callable returns a truthy value; otherwise skip downstream tasks.

    With ``ignore_downstream_trigger_rules=True`` (the default) every task downstream is skipped;
    with ``False`` only the direct downstream tasks are, and later tasks follow their trigger rules.
    """

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context: Any) -> Any:
        condition = super().execute(context)
        self.log.info("Condition result is %s", condition)
        if condition:
            self.log.info("Proceeding with downstream tasks...")
            return condition
        if not self.downstream_task_ids:
            self.log.info("No downstream tasks; nothing to do.")
            return condition
        if self.ignore_downstream_trigger_rules:
            candidates: Iterable[str] = self.get_flat_relative_ids(upstream=False)
        else:
            candidates = self.downstream_task_ids
        dag = self.dag
        assert dag is not None
        to_skip = sorted(
            task_id for task_id in candidates if not getattr(dag.task_dict[task_id], "is_teardown", False)
        )
        self.log.info("Skipping downstream tasks %s", to_skip)
        if to_skip:
            context["ti"].skip_downstream_tasks(to_skip)
        return condition
