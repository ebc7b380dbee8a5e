"""Notifiers: callables for ``on_failure_callback`` and friends that tell people (email, Slack).

Each notifier is imported on first use, so ``import updraft.notifications`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from updraft.notifications.base import BaseNotifier
    from updraft.notifications.email import EmailNotifier
    from updraft.notifications.slack import SlackNotifier

__all__ = ["BaseNotifier", "EmailNotifier", "SlackNotifier"]

_WHERE = {
    "BaseNotifier": "updraft.notifications.base",
    "EmailNotifier": "updraft.notifications.email",
    "SlackNotifier": "updraft.notifications.slack",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
