"""Airflow's ``send_*_notification`` helpers, building Updraft's notifiers."""

from __future__ import annotations

from typing import Any


def send_smtp_notification(**kwargs: Any) -> Any:
    from updraft.notifications.email import EmailNotifier

    return EmailNotifier(**kwargs)


def send_slack_notification(**kwargs: Any) -> Any:
    from updraft.notifications.slack import SlackNotifier

    return SlackNotifier(**kwargs)


send_slack_webhook_notification = send_slack_notification
