"""Slack hooks, operators and notifiers against a loopback server playing Slack's endpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.operators.helpers import make_context, run_task
from tests.providers.http.fake_service import FakeService, Reply
from updraft.notifications.slack import SlackNotifier, SlackWebhookNotifier
from updraft.providers.slack import (
    SlackApiError,
    SlackAPIPostOperator,
    SlackError,
    SlackHook,
    SlackWebhookHook,
    SlackWebhookOperator,
)
from updraft.sdk.connection import Connection
from updraft.sdk.dag import DAG

TOKEN = "xoxb-123-secret"
WEBHOOK_PATH = "T000/B000/XXXXSECRET"


@pytest.fixture
def slack() -> Iterator[FakeService]:
    with FakeService() as running:
        yield running


@pytest.fixture
def api_conn(slack: FakeService, monkeypatch: pytest.MonkeyPatch) -> str:
    extra = {"base_url": f"{slack.url}/api/"}
    monkeypatch.setenv(
        "UPDRAFT_CONN_SLACK_API_DEFAULT",
        json.dumps({"conn_type": "slack", "password": TOKEN, "extra": extra}),
    )
    return "slack_api_default"


def test_api_post_operator_sends_chat_post_message_with_bearer_token(
    slack: FakeService, api_conn: str
) -> None:
    slack.script(Reply(200, {"ok": True, "channel": "C1", "ts": "1.2"}))
    with DAG("slack_dag", schedule=None):
        op = SlackAPIPostOperator(
            task_id="post",
            channel="#alerts",
            text="run {{ ds }} done",
            blocks='[{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]',
        )
    run_task(op)
    [got] = slack.received
    assert (got.method, got.path) == ("POST", "/api/chat.postMessage")
    assert got.headers["authorization"] == f"Bearer {TOKEN}"
    assert got.headers["content-type"] == "application/json"
    assert got.json == {
        "channel": "#alerts",
        "text": "run 2024-03-05 done",
        "username": "Updraft",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}],
    }


def test_ok_false_fails_with_slacks_error_code_and_no_token(slack: FakeService, api_conn: str) -> None:
    slack.script(Reply(200, {"ok": False, "error": "channel_not_found"}))
    with pytest.raises(SlackApiError) as info:
        SlackHook().call("chat.postMessage", json={"channel": "#nope", "text": "x"})
    assert info.value.error == "channel_not_found"
    message = str(info.value)
    assert (
        "channel_not_found" in message and "'slack_api_default'" in message and "chat.postMessage" in message
    )
    assert TOKEN not in message
    assert len(slack.received) == 1


def test_host_sets_the_api_base_and_429_is_retried(
    slack: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "UPDRAFT_CONN_MY_SLACK",
        json.dumps({"conn_type": "slack", "host": f"{slack.url}/custom/", "password": TOKEN}),
    )
    slack.script(
        Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}), Reply(200, {"ok": True})
    )
    assert SlackHook("my_slack", retry_delay=0.01).call("auth.test") == {"ok": True}
    assert [r.path for r in slack.received] == ["/custom/auth.test"] * 2


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT_CONN_NOTOKEN", '{"conn_type": "slack"}')
    with pytest.raises(SlackError, match=r"'notoken'.*no Slack API token"):
        SlackHook("notoken").call("auth.test")


def test_webhook_operator_posts_to_url_in_password(
    slack: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "UPDRAFT_CONN_HOOK",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/services/{WEBHOOK_PATH}"}),
    )
    with DAG("slack_dag", schedule=None):
        op = SlackWebhookOperator(
            task_id="hook",
            slack_webhook_conn_id="hook",
            message="{{ task.task_id }} says hi",
            attachments=[{"color": "good", "text": "green"}],
            unfurl_links=False,
        )
    run_task(op)
    [got] = slack.received
    assert got.path == f"/services/{WEBHOOK_PATH}"
    assert "authorization" not in got.headers
    assert got.json == {
        "text": "hook says hi",
        "attachments": [{"color": "good", "text": "green"}],
        "unfurl_links": False,
    }


def test_webhook_path_in_password_joins_host_and_errors_hide_it(
    slack: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "UPDRAFT_CONN_HOOK",
        json.dumps({"conn_type": "slackwebhook", "schema": "http", "host": f"127.0.0.1:{slack.port}/services",
                    "password": WEBHOOK_PATH}),
    )  # fmt: skip
    hook = SlackWebhookHook("hook")
    assert hook.send_text("hello") == "ok"
    assert slack.received[0].path == f"/services/{WEBHOOK_PATH}"
    assert slack.received[0].json == {"text": "hello"}
    slack.script(Reply(400, "invalid_payload"))
    with pytest.raises(SlackError) as info:
        hook.send(text="")
    assert "400" in str(info.value) and "invalid_payload" in str(info.value)
    assert "SECRET" not in str(info.value) and "'hook'" in str(info.value)


def test_webhook_default_host_is_slack() -> None:
    conn = Connection("c", conn_type="slackwebhook", password=WEBHOOK_PATH)
    assert SlackWebhookHook("c").webhook_url(conn) == f"https://hooks.slack.com/services/{WEBHOOK_PATH}"


def test_slack_notifier_renders_with_context_and_posts(slack: FakeService, api_conn: str) -> None:
    slack.script(Reply(200, {"ok": True}))
    with DAG("notify_dag", schedule=None):
        op = SlackAPIPostOperator(task_id="t")
    notifier = SlackNotifier(text="{{ ti.task_id }} failed on {{ ds }}", channel="#ops")
    notifier(make_context(op))
    [got] = slack.received
    assert got.path == "/api/chat.postMessage"
    assert got.json == {"channel": "#ops", "text": "t failed on 2024-03-05", "username": "Updraft"}
    assert notifier.text == "{{ ti.task_id }} failed on {{ ds }}"  # the instance is reusable


def test_slack_notifier_raises_on_ok_false(slack: FakeService, api_conn: str) -> None:
    slack.script(Reply(200, {"ok": False, "error": "not_in_channel"}))
    with DAG("notify_dag", schedule=None):
        op = SlackAPIPostOperator(task_id="t")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        SlackNotifier(text="x")(make_context(op))


def test_slack_webhook_notifier(slack: FakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "UPDRAFT_CONN_SLACK_DEFAULT",
        f"slackwebhook://:{slack.url.replace(':', '%3A').replace('/', '%2F')}%2Fw@",
    )
    with DAG("notify_dag", schedule=None):
        op = SlackAPIPostOperator(task_id="t")
    SlackWebhookNotifier(text="{{ dag.dag_id }} broke")(make_context(op))
    assert slack.received[0].path == "/w"
    assert slack.received[0].json == {"text": "notify_dag broke"}
