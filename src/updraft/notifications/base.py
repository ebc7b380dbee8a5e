"""``BaseNotifier``: the base of notifiers, callbacks that tell people about a task or DAG run.

A notifier is an object passed where a callback goes (``on_failure_callback=MyNotifier(...)``,
alone or in a list). When called with the callback's context it renders its ``template_fields``
with that context (the DAG's Jinja environment, as for task fields) on a copy of itself, then
calls ``notify(context)`` on the copy, so one instance can serve many tasks and runs.

What a notifier raises is the caller's to handle: the task runtime logs a callback that raises
and never changes the task's state for it.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

from updraft.sdk.exceptions import TemplateRenderError
from updraft.sdk.templating import get_jinja_env, render_template_fields

__all__ = ["BaseNotifier"]


class BaseNotifier:
    """Subclass it and implement :meth:`notify`; list the templated attributes in ``template_fields``."""

    template_fields: Sequence[str] = ()
    template_ext: Sequence[str] = ()

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"{type(self).__module__}.{type(self).__name__}")

    def notify(self, context: Any) -> None:
        """Send the notification; ``context`` is the task's (or DAG run's) callback context."""
        raise NotImplementedError(f"{type(self).__name__} must implement notify(context)")

    def render_template_fields(self, context: Any) -> None:
        """Render ``template_fields`` in place with ``context`` (and the context's DAG's environment)."""
        dag = context.get("dag") if hasattr(context, "get") else None
        try:
            render_template_fields(self, context, get_jinja_env(dag))
        except TemplateRenderError as exc:
            raise TemplateRenderError(f"notifier {type(self).__name__}: {exc}") from exc

    def __call__(self, *args: Any) -> None:
        """Called as a callback: ``notifier(context)``; renders a copy of itself, then notifies."""
        if len(args) != 1:
            raise TypeError(
                f"{type(self).__name__} is called with the callback's context only, got {len(args)} arguments"
            )
        context = args[0]
        notifier = copy.copy(self)
        if notifier.template_fields:
            notifier.render_template_fields(context)
        notifier.notify(context)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
