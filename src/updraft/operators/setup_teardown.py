"""``@setup`` and ``@teardown``: TaskFlow tasks marked as a setup or teardown when called.

``@setup`` over a plain function makes it a ``@task`` first; over an already decorated task
(``@setup`` on top of ``@task.bash``) it only marks. A teardown's setups are given with
``.as_teardown(setups=...)`` on its output, as in Airflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from updraft.operators.taskflow import TaskDecorator, task

__all__ = ["setup", "teardown"]


class _MarkedTask:
    """A TaskFlow task whose every call marks the created task as a setup or teardown."""

    def __init__(self, decorated: Any, mark: Callable[[Any], Any]) -> None:
        self._decorated = decorated
        self._mark = mark

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._mark(self._decorated(*args, **kwargs))

    def override(self, **kwargs: Any) -> _MarkedTask:
        return _MarkedTask(self._decorated.override(**kwargs), self._mark)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._decorated, name)


def _as_task(func: Any) -> Any:
    return func if isinstance(func, (TaskDecorator, _MarkedTask)) else task(func)


def setup(python_callable: Callable[..., Any] | None = None) -> Any:
    """Decorate a TaskFlow function so that each task it creates is a setup task."""

    def wrap(func: Callable[..., Any]) -> _MarkedTask:
        return _MarkedTask(_as_task(func), lambda output: output.as_setup())

    return wrap(python_callable) if python_callable is not None else wrap


def teardown(
    python_callable: Callable[..., Any] | None = None, *, on_failure_fail_dagrun: bool = False
) -> Any:
    """Decorate a TaskFlow function so that each task it creates is a teardown task."""

    def wrap(func: Callable[..., Any]) -> _MarkedTask:
        return _MarkedTask(
            _as_task(func), lambda output: output.as_teardown(on_failure_fail_dagrun=on_failure_fail_dagrun)
        )

    return wrap(python_callable) if python_callable is not None else wrap
