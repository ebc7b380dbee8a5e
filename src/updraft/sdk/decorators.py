"""``@dag`` and ``@task_group``: build a DAG or a TaskGroup by calling a function.

(``@task`` lives in ``updraft.operators.taskflow``, because it builds Python and Bash operators.)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from updraft.sdk.dag import DAG, _caller_file
from updraft.sdk.mapped_task_group import expand_task_group
from updraft.sdk.mapping import DictOfListsExpandInput, ListOfDictsExpandInput
from updraft.sdk.taskgroup import TaskGroup

F = TypeVar("F", bound=Callable[..., Any])


def dag(dag_id: str | Callable[..., Any] | None = None, **dag_kwargs: Any) -> Any:
    """Turn a function into a DAG factory: calling it builds the DAG.

    The function's parameters become DAG params (their defaults the params' defaults); inside the
    function they are references resolved from the run's params when a task runs.
    """

    def decorator(func: Callable[..., Any]) -> Callable[..., DAG]:
        signature = inspect.signature(func)
        fileloc = _caller_file_of(func)

        @functools.wraps(func)
        def factory(*args: Any, **kwargs: Any) -> DAG:
            bound = signature.bind_partial(*args, **kwargs)
            bound.apply_defaults()
            params = dict(dag_kwargs.get("params") or {})
            for name, value in bound.arguments.items():
                params.setdefault(name, value)
            options = {k: v for k, v in dag_kwargs.items() if k != "params"}
            options.setdefault("fileloc", fileloc)
            if func.__doc__ and "doc_md" not in options:
                options["doc_md"] = inspect.cleandoc(func.__doc__)
            new_dag = DAG(
                dag_id=dag_id if isinstance(dag_id, str) else func.__name__, params=params, **options
            )
            with new_dag:
                call_kwargs = {name: new_dag.param(name, value) for name, value in bound.arguments.items()}
                func(**call_kwargs)
            return new_dag

        return factory

    if callable(dag_id):
        func, dag_id = dag_id, None
        return decorator(func)
    return decorator


def _caller_file_of(func: Callable[..., Any]) -> str:
    code = getattr(func, "__code__", None)
    return code.co_filename if code is not None else _caller_file()


class _TaskGroupFactory:
    def __init__(
        self,
        func: Callable[..., Any],
        group_kwargs: dict[str, Any],
        partial_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.func = func
        self.group_kwargs = group_kwargs
        self.partial_kwargs = dict(partial_kwargs or {})
        functools.update_wrapper(self, func)

    def _options(self) -> dict[str, Any]:
        options = dict(self.group_kwargs)
        options.setdefault("group_id", self.func.__name__)
        options.setdefault("add_suffix_on_collision", True)
        if self.func.__doc__ and "tooltip" not in options:
            options["tooltip"] = inspect.cleandoc(self.func.__doc__)
        return options

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with TaskGroup(**self._options()) as group:
            result = self.func(*args, **{**self.partial_kwargs, **kwargs})
        # Returning a task (or XComArg) lets `start >> my_group() >> end` bind to it, as in Airflow.
        return result if result is not None else group

    def override(self, **kwargs: Any) -> _TaskGroupFactory:
        """The same group function with other TaskGroup options (group_id, tooltip, ...)."""
        return _TaskGroupFactory(self.func, {**self.group_kwargs, **kwargs}, self.partial_kwargs)

    def partial(self, **kwargs: Any) -> _TaskGroupFactory:
        """Fix arguments of the group function shared by every mapped instance; then ``.expand()``."""
        return _TaskGroupFactory(self.func, self.group_kwargs, {**self.partial_kwargs, **kwargs})

    def expand(self, **kwargs: Any) -> Any:
        """Map the whole group: one instance of each of its tasks per item (a cross product for
        several arguments)."""
        return expand_task_group(
            self.func, self._options(), self.partial_kwargs, DictOfListsExpandInput(kwargs)
        )

    def expand_kwargs(self, kwargs_list: Any) -> Any:
        """Map the whole group over a list of dicts of the function's arguments (or an XComArg of one)."""
        return expand_task_group(
            self.func, self._options(), self.partial_kwargs, ListOfDictsExpandInput(kwargs_list)
        )


def task_group(group_id: str | Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Make a function build a TaskGroup named after it each time it is called."""
    if callable(group_id):
        return _TaskGroupFactory(group_id, kwargs)

    def decorator(func: Callable[..., Any]) -> _TaskGroupFactory:
        options = dict(kwargs)
        if group_id is not None:
            options["group_id"] = group_id
        return _TaskGroupFactory(func, options)

    return decorator
