"""Slack hooks on httpx: ``SlackHook`` (the Web API with a bot token) and ``SlackWebhookHook``.

``SlackHook`` reads a ``slack`` connection: the password is the token; the extra ``base_url`` (or
a host) replaces ``https://slack.com/api/``; the extra ``timeout`` and ``proxy`` apply. An answer
``{"ok": false, "error": ...}`` raises :class:`SlackApiError` with Slack's error code.

``SlackWebhookHook`` reads a ``slackwebhook`` connection: the password is the whole webhook URL,
or its path (``T000/B000/XXX``) under the host (``hooks.slack.com/services`` when unset) and the
schema (``https`` when unset). The webhook URL holds a secret, so messages never show it.

Both retry connection failures, 5xx answers and 429 (honouring ``Retry-After``) with backoff.

::

    UpdraftException
    +-- SlackError             bad connection, no answer, or a non-2xx answer
        +-- SlackApiError      the Web API answered ok=false (``error`` holds Slack's code)
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Mapping
from typing import Any

import httpx

from updraft.sdk.base_hook import BaseHook
from updraft.sdk.connection import Connection
from updraft.sdk.exceptions import UpdraftException

__all__ = ["SLACK_API_URL", "SlackApiError", "SlackError", "SlackHook", "SlackWebhookHook"]

SLACK_API_URL = "https://slack.com/api/"
WEBHOOK_HOST = "hooks.slack.com/services"
DEFAULT_TIMEOUT = 30.0
#: Longest wait a 429's Retry-After may impose before we give up instead.
MAX_RETRY_AFTER = 60.0


class SlackError(UpdraftException):
    """A Slack call failed; the message names the connection, never the token or webhook URL."""


class SlackApiError(SlackError):
    """Slack's Web API answered ``ok: false``; ``error`` is its error code, ``response`` the JSON."""

    def __init__(self, message: str, error: str, response: dict[str, Any]) -> None:
        super().__init__(message)
        self.error = error
        self.response = response


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class _SlackHttp(BaseHook):
    """The shared request loop: one POST, retried on connection errors, 5xx and 429."""

    def __init__(
        self,
        conn_id: str,
        timeout: float | None,
        proxy: str | None,
        retry_limit: int,
        retry_delay: float,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.timeout = timeout
        self.proxy = proxy
        self.retry_limit = retry_limit
        self.retry_delay = retry_delay

    @property
    def where(self) -> str:
        return f"connection {self.conn_id!r}"

    def _client(self, extra: Mapping[str, Any]) -> httpx.Client:
        timeout = self.timeout if self.timeout is not None else extra.get("timeout", DEFAULT_TIMEOUT)
        try:
            seconds = float(timeout)
        except (TypeError, ValueError):
            raise SlackError(f"{self.where}: timeout must be a number of seconds, got {timeout!r}") from None
        return httpx.Client(timeout=seconds, proxy=self.proxy or extra.get("proxy") or None)

    def _post(self, client: httpx.Client, url: str, what: str, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = client.post(url, **kwargs)
            except httpx.TimeoutException:
                raise SlackError(f"{self.where}: {what} timed out after {client.timeout.read} s") from None
            except httpx.TransportError as exc:
                # str(exc) may quote the URL, which for a webhook is the secret: name the type only.
                if attempt > self.retry_limit or not isinstance(exc, httpx.ConnectError):
                    raise SlackError(
                        f"{self.where}: {what} failed after {attempt} attempt(s): {type(exc).__name__}"
                    ) from None
                delay = self.retry_delay * 2 ** (attempt - 1)
                reason = type(exc).__name__
            else:
                status = response.status_code
                if (status < 500 and status != 429) or attempt > self.retry_limit:
                    return response
                delay = self.retry_delay * 2 ** (attempt - 1)
                if status == 429:
                    try:
                        delay = max(delay, float(response.headers.get("Retry-After", 0)))
                    except ValueError:
                        pass
                    if delay > MAX_RETRY_AFTER:
                        return response
                reason = f"status {status}"
            self.log.warning(
                "%s: %s: %s; retry %d of %d in %.2f s",
                self.where,
                what,
                reason,
                attempt,
                self.retry_limit,
                delay,
            )
            time.sleep(delay)


class SlackHook(_SlackHttp):
    """Call Slack Web API methods with the bot token of a ``slack`` connection."""

    conn_name_attr = "slack_conn_id"
    default_conn_name = "slack_api_default"
    conn_type = "slack"
    hook_name = "Slack API"

    def __init__(
        self,
        slack_conn_id: str = default_conn_name,
        base_url: str | None = None,
        timeout: float | None = None,
        proxy: str | None = None,
        retry_limit: int = 3,
        retry_delay: float = 1.0,
    ) -> None:
        super().__init__(slack_conn_id, timeout, proxy, retry_limit, retry_delay)
        self.slack_conn_id = slack_conn_id
        self.base_url = base_url

    def _api_base(self, conn: Connection) -> str:
        base = self.base_url or conn.extra_dejson.get("base_url")
        if not base and conn.host:
            if "://" in conn.host:
                base = conn.host
            else:
                scheme = conn.schema if conn.schema in ("http", "https") else "https"
                base = f"{scheme}://{conn.host}{f':{conn.port}' if conn.port else ''}/api/"
        base = str(base or SLACK_API_URL)
        return base if base.endswith("/") else base + "/"

    def call(
        self, api_method: str, *, json: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """POST ``json`` (or ``data=`` form fields) to ``api_method``; the answer's JSON when ok."""
        conn = self.get_connection(self.slack_conn_id)
        token = conn.password
        if not token:
            raise SlackError(f"{self.where}: no Slack API token; set the connection's password to it")
        url = self._api_base(conn) + api_method.lstrip("/")
        headers = {"Authorization": f"Bearer {token}"}
        with self._client(conn.extra_dejson) as client:
            if json is not None:
                kwargs["json"] = dict(json)
            response = self._post(client, url, f"Slack API {api_method}", headers=headers, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SlackError(
                f"{self.where}: Slack API {api_method} answered {response.status_code} without a JSON "
                f"object: {_excerpt(response.text)}"
            )
        if not body.get("ok"):
            error = str(body.get("error") or f"status {response.status_code}")
            detail = (
                body.get("response_metadata", {}).get("messages")
                if isinstance(body.get("response_metadata"), dict)
                else None
            )
            raise SlackApiError(
                f"{self.where}: Slack API {api_method} failed: {error}"
                + (f" ({'; '.join(map(str, detail))})" if detail else ""),
                error,
                body,
            )
        for warning in str(body.get("warning") or "").split(","):
            if warning:
                self.log.warning("%s: Slack API %s warns: %s", self.where, api_method, warning)
        return body

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.call("auth.test")
        except (SlackError, KeyError, ValueError) as exc:
            return False, str(exc)
        return True, "Connection successfully tested"


class SlackWebhookHook(_SlackHttp):
    """Post messages to a Slack incoming webhook kept in a ``slackwebhook`` connection."""

    conn_name_attr = "slack_webhook_conn_id"
    default_conn_name = "slack_default"
    conn_type = "slackwebhook"
    hook_name = "Slack Incoming Webhook"

    def __init__(
        self,
        slack_webhook_conn_id: str = default_conn_name,
        timeout: float | None = None,
        proxy: str | None = None,
        retry_limit: int = 3,
        retry_delay: float = 1.0,
    ) -> None:
        super().__init__(slack_webhook_conn_id, timeout, proxy, retry_limit, retry_delay)
        self.slack_webhook_conn_id = slack_webhook_conn_id

    def webhook_url(self, conn: Connection) -> str:
        """The password when it is a URL; else ``schema://host/password``."""
        secret = (conn.password or "").strip()
        if not secret:
            raise SlackError(
                f"{self.where}: no webhook; set the connection's password to the Slack incoming "
                "webhook URL (or its T.../B.../... path)"
            )
        if "://" in secret:
            return secret
        host = (conn.host or WEBHOOK_HOST).strip().rstrip("/")
        if "://" not in host:
            scheme = conn.schema if conn.schema in ("http", "https") else "https"
            port = f":{conn.port}" if conn.port and conn.host else ""
            host = f"{scheme}://{host}{port}"
        return f"{host}/{secret.lstrip('/')}"

    def send_dict(self, body: Mapping[str, Any] | str, *, headers: Mapping[str, str] | None = None) -> str:
        """POST ``body`` (a dict, or its JSON text) to the webhook; Slack's answer text ("ok")."""
        if isinstance(body, str):
            try:
                body = jsonlib.loads(body)
            except jsonlib.JSONDecodeError as exc:
                raise SlackError(f"{self.where}: the webhook body is not valid JSON ({exc.msg})") from None
        if not isinstance(body, Mapping):
            raise SlackError(f"{self.where}: the webhook body must be a JSON object")
        conn = self.get_connection(self.slack_webhook_conn_id)
        url = self.webhook_url(conn)
        with self._client(conn.extra_dejson) as client:
            response = self._post(client, url, "Slack webhook", json=dict(body), headers=dict(headers or {}))
        if response.status_code != 200:
            raise SlackError(
                f"{self.where}: the Slack webhook answered {response.status_code}: {_excerpt(response.text)}"
            )
        return response.text

    def send(
        self,
        *,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        headers: Mapping[str, str] | None = None,
        **legacy: Any,
    ) -> str:
        """Send a message; fields left None are not sent. ``legacy`` passes e.g. ``channel``,
        ``username`` or ``icon_emoji``, which only legacy webhooks honour."""
        fields = {
            "text": text,
            "blocks": blocks,
            "attachments": attachments,
            "response_type": response_type,
            "replace_original": replace_original,
            "delete_original": delete_original,
            "unfurl_links": unfurl_links,
            "unfurl_media": unfurl_media,
            **legacy,
        }
        return self.send_dict({k: v for k, v in fields.items() if v is not None}, headers=headers)

    def send_text(
        self, text: str, *, unfurl_links: bool | None = None, unfurl_media: bool | None = None
    ) -> str:
        return self.send(text=text, unfurl_links=unfurl_links, unfurl_media=unfurl_media)
