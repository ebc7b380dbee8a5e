"""Slack provider on httpx: the Web API (``SlackHook``, ``SlackAPIPostOperator``) and incoming
webhooks (``SlackWebhookHook``, ``SlackWebhookOperator``)."""

from updraft.providers.slack.hooks import SlackApiError, SlackError, SlackHook, SlackWebhookHook
from updraft.providers.slack.operators import SlackAPIPostOperator, SlackWebhookOperator

__all__ = [
    "SlackAPIPostOperator",
    "SlackApiError",
    "SlackError",
    "SlackHook",
    "SlackWebhookHook",
    "SlackWebhookOperator",
]
