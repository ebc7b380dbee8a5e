"""Slack operators: ``SlackAPIPostOperator`` (chat.postMessage with a bot token) and
``SlackWebhookOperator`` (an incoming webhook)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from updraft.providers.slack.hooks import SlackHook, SlackWebhookHook
from updraft.sdk.baseoperator import BaseOperator

__all__ = ["SlackAPIPostOperator", "SlackWebhookOperator"]


def _as_list(value: Any, name: str, task_id: str) -> list[Any] | None:
    """Blocks and attachments may be given (or rendered) as JSON text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"task {task_id!r}: {name} is not valid JSON ({exc.msg})") from None
    if not isinstance(value, list):
        raise ValueError(f"task {task_id!r}: {name} must be a list, got {type(value).__name__}")
    return value


class SlackAPIPostOperator(BaseOperator):
    """Post ``text`` (and ``blocks``/``attachments``) to ``channel`` with Slack's Web API."""

    template_fields: ClassVar[Sequence[str]] = ("username", "text", "attachments", "blocks", "channel")
    ui_color = "#FFBA40"

    def __init__(
        self,
        *,
        slack_conn_id: str = SlackHook.default_conn_name,
        channel: str = "#general",
        text: str = "No message has been set.",
        username: str | None = "Updraft",
        icon_url: str | None = None,
        icon_emoji: str | None = None,
        blocks: Any = None,
        attachments: Any = None,
        method: str = "chat.postMessage",
        base_url: str | None = None,
        timeout: float | None = None,
        proxy: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.slack_conn_id = slack_conn_id
        self.channel = channel
        self.text = text
        self.username = username
        self.icon_url = icon_url
        self.icon_emoji = icon_emoji
        self.blocks = blocks
        self.attachments = attachments
        self.method = method
        self.base_url = base_url
        self.timeout = timeout
        self.proxy = proxy

    @property
    def hook(self) -> SlackHook:
        return SlackHook(self.slack_conn_id, base_url=self.base_url, timeout=self.timeout, proxy=self.proxy)

    def api_params(self) -> dict[str, Any]:
        params = {
            "channel": self.channel,
            "text": self.text,
            "username": self.username,
            "icon_url": self.icon_url,
            "icon_emoji": self.icon_emoji,
            "blocks": _as_list(self.blocks, "blocks", self.task_id),
            "attachments": _as_list(self.attachments, "attachments", self.task_id),
        }
        return {k: v for k, v in params.items() if v is not None}

    def execute(self, context: Any) -> None:
        if not self.channel:
            raise ValueError(f"task {self.task_id!r}: channel is empty")
        answer = self.hook.call(self.method, json=self.api_params())
        self.log.info("Posted to %s (ts %s)", answer.get("channel", self.channel), answer.get("ts"))


class SlackWebhookOperator(BaseOperator):
    """Send ``message`` (and ``blocks``/``attachments``) to a Slack incoming webhook."""

    template_fields: ClassVar[Sequence[str]] = (
        "message",
        "attachments",
        "blocks",
        "channel",
        "username",
        "proxy",
    )
    ui_color = "#FFBA40"

    def __init__(
        self,
        *,
        slack_webhook_conn_id: str = SlackWebhookHook.default_conn_name,
        message: str = "",
        attachments: Any = None,
        blocks: Any = None,
        channel: str | None = None,
        username: str | None = None,
        icon_emoji: str | None = None,
        icon_url: str | None = None,
        proxy: str | None = None,
        timeout: float | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.slack_webhook_conn_id = slack_webhook_conn_id
        self.message = message
        self.attachments = attachments
        self.blocks = blocks
        self.channel = channel
        self.username = username
        self.icon_emoji = icon_emoji
        self.icon_url = icon_url
        self.proxy = proxy
        self.timeout = timeout
        self.unfurl_links = unfurl_links
        self.unfurl_media = unfurl_media

    @property
    def hook(self) -> SlackWebhookHook:
        return SlackWebhookHook(self.slack_webhook_conn_id, timeout=self.timeout, proxy=self.proxy)

    def execute(self, context: Any) -> None:
        legacy: dict[str, Any] = {"channel": self.channel, "username": self.username, "icon_emoji": self.icon_emoji,
                  "icon_url": self.icon_url}  # fmt: skip
        self.hook.send(
            text=self.message or None,
            attachments=_as_list(self.attachments, "attachments", self.task_id),
            blocks=_as_list(self.blocks, "blocks", self.task_id),
            unfurl_links=self.unfurl_links,
            unfurl_media=self.unfurl_media,
            **{k: v for k, v in legacy.items() if v},
        )
