"""Slack notifiers: ``SlackNotifier`` (chat.postMessage with a bot token) and
``SlackWebhookNotifier`` (an incoming webhook), for ``on_failure_callback=`` and friends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from updraft.notifications.base import BaseNotifier
from updraft.providers.slack.hooks import SlackHook, SlackWebhookHook

__all__ = ["SlackNotifier", "SlackWebhookNotifier"]


class SlackNotifier(BaseNotifier):
    """Post ``text`` to ``channel`` through the Slack Web API (``slack`` connection's token)."""

    template_fields: Sequence[str] = ("text", "channel", "username", "attachments", "blocks")

    def __init__(
        self,
        *,
        slack_conn_id: str = SlackHook.default_conn_name,
        text: str = "This is a default message",
        channel: str = "#general",
        username: str | None = "Updraft",
        icon_url: str | None = None,
        attachments: Sequence[dict[str, Any]] | None = None,
        blocks: Sequence[dict[str, Any]] | None = None,
        base_url: str | None = None,
        proxy: str | None = None,
        timeout: float | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
    ) -> None:
        self.slack_conn_id = slack_conn_id
        self.text = text
        self.channel = channel
        self.username = username
        self.icon_url = icon_url
        self.attachments = attachments
        self.blocks = blocks
        self.base_url = base_url
        self.proxy = proxy
        self.timeout = timeout
        self.unfurl_links = unfurl_links
        self.unfurl_media = unfurl_media

    @property
    def hook(self) -> SlackHook:
        return SlackHook(self.slack_conn_id, base_url=self.base_url, timeout=self.timeout, proxy=self.proxy)

    def notify(self, context: Any) -> None:
        body = {
            "channel": self.channel,
            "text": self.text,
            "username": self.username,
            "icon_url": self.icon_url,
            "attachments": list(self.attachments) if self.attachments else None,
            "blocks": list(self.blocks) if self.blocks else None,
            "unfurl_links": self.unfurl_links,
            "unfurl_media": self.unfurl_media,
        }
        self.hook.call("chat.postMessage", json={k: v for k, v in body.items() if v is not None})


class SlackWebhookNotifier(BaseNotifier):
    """Send ``text`` (and ``blocks``/``attachments``) to the incoming webhook of a connection."""

    template_fields: Sequence[str] = ("text", "attachments", "blocks")

    def __init__(
        self,
        *,
        slack_webhook_conn_id: str = SlackWebhookHook.default_conn_name,
        text: str = "This is a default message",
        blocks: Sequence[dict[str, Any]] | None = None,
        attachments: Sequence[dict[str, Any]] | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        proxy: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.slack_webhook_conn_id = slack_webhook_conn_id
        self.text = text
        self.blocks = blocks
        self.attachments = attachments
        self.unfurl_links = unfurl_links
        self.unfurl_media = unfurl_media
        self.proxy = proxy
        self.timeout = timeout

    @property
    def hook(self) -> SlackWebhookHook:
        return SlackWebhookHook(self.slack_webhook_conn_id, timeout=self.timeout, proxy=self.proxy)

    def notify(self, context: Any) -> None:
        self.hook.send(
            text=self.text,
            blocks=list(self.blocks) if self.blocks else None,
            attachments=list(self.attachments) if self.attachments else None,
            unfurl_links=self.unfurl_links,
            unfurl_media=self.unfurl_media,
        )
