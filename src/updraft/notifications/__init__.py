"""Notifiers: callables for ``on_failure_callback`` and friends that tell people (email, Slack).

Each notifier is imported on first use, so ``import updraft.notifications`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from updraft.sdk.lazy_exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
