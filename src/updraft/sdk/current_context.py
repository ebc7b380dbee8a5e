"""``get_current_context()``: the running task's context, for code that was not handed it.

The task runner enters :func:`current_context` around ``execute``; TaskFlow functions and helpers
they call read it with :func:`get_current_context`. A context variable keeps this right for
threads and asyncio tasks started inside the task as well.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from updraft.sdk.exceptions import UpdraftException

__all__ = ["current_context", "get_current_context"]

_CONTEXTS: contextvars.ContextVar[tuple[Mapping[str, Any], ...]] = contextvars.ContextVar(
    "updraft_task_contexts", default=()
)


@contextmanager
def current_context(context: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Make ``context`` what :func:`get_current_context` returns until the block ends."""
    token = _CONTEXTS.set((*_CONTEXTS.get(), context))
    try:
        yield context
    finally:
        _CONTEXTS.reset(token)


def get_current_context() -> Any:
    """The context of the task running now (the same mapping its ``execute`` receives)."""
    stack = _CONTEXTS.get()
    if not stack:
        raise UpdraftException(
            "get_current_context() was called outside a running task: it only works while a task "
            "executes (inside a @task function or an operator's execute())"
        )
    return stack[-1]
