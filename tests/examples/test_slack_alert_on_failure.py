"""``example_slack_alert_on_failure``: the failure alert and the success message reach a loopback Slack webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.examples.conftest import RunExample, errors, states, xcom
from tests.providers.http.fake_service import FakeService, Reply

DAG_ID = "example_slack_alert_on_failure"
DAY = "2024-06-01"
WEBHOOK_PATH = "/services/T0001/B0001/secretpart"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeService]:
    with FakeService() as service:
        monkeypatch.setenv(
            "UPDRAFT_CONN_SLACK_ALERTS",
            json.dumps({"conn_type": "slackwebhook", "password": f"{service.url}{WEBHOOK_PATH}"}),
        )
        yield service


def test_a_failing_task_posts_the_templated_alert(
    run_example: RunExample, updraft_home: object, slack: FakeService
) -> None:
    result = run_example(DAG_ID, DAY, {"fail": True})
    assert result.state.value == "failed"
    assert states(result) == {
        "count_stock": "success",
        "check_stock": "failed",
        "announce": "upstream_failed",
    }
    [alert] = slack.received
    assert (alert.method, alert.path) == ("POST", WEBHOOK_PATH)
    text = alert.json["text"]
    assert text.startswith(f":red_circle: {DAG_ID}.check_stock failed for {DAY} (try 1, run manual__{DAY}")
    assert "failing on purpose" in text and errors(result)["check_stock"].endswith(text.split("): ", 1)[1])


def test_a_data_check_failure_is_alerted_too(
    run_example: RunExample, updraft_home: object, slack: FakeService
) -> None:
    result = run_example(DAG_ID, DAY, {"east_units": 0})
    assert states(result)["check_stock"] == "failed"
    [alert] = slack.received
    assert "no stock left in: east" in alert.json["text"]


def test_success_posts_the_stock_total(
    run_example: RunExample, updraft_home: object, slack: FakeService
) -> None:
    result = run_example(DAG_ID, DAY, {"east_units": 7})
    assert result.state.value == "success", errors(result)
    stock = xcom(result, "count_stock")
    assert stock["east"] == 7
    total = xcom(result, "check_stock")
    assert total == sum(stock.values())
    [message] = slack.received
    assert message.path == WEBHOOK_PATH
    assert message.json["text"] == f":large_green_circle: {DAG_ID} {DAY}: {total} units in stock"


def test_a_broken_webhook_does_not_change_the_tasks_state(
    run_example: RunExample, updraft_home: object, slack: FakeService
) -> None:
    slack.script(Reply(404, "no_service"))
    result = run_example(DAG_ID, DAY, {"fail": True})
    assert states(result)["check_stock"] == "failed"
    assert "failing on purpose" in errors(result)["check_stock"]  # the task's own error, not Slack's
    assert len(slack.received) == 1


def test_without_the_connection_the_success_message_is_skipped(
    run_example: RunExample, updraft_home: object
) -> None:
    result = run_example(DAG_ID, DAY)
    assert result.state.value == "success", errors(result)
    assert states(result) == {"count_stock": "success", "check_stock": "success", "announce": "skipped"}
