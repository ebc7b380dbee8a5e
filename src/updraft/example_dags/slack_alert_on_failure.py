"""Slack alerts: a notifier posts to a Slack webhook when a task fails; a success message at the end.

Run it with ``updraft dags test example_slack_alert_on_failure``; add ``--conf '{"fail": true}'``
to make the check fail on purpose and send the alert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from updraft import DAG
from updraft.exceptions import UpdraftSkipException
from updraft.hooks import BaseHook
from updraft.notifications.slack import SlackWebhookNotifier
from updraft.operators import PythonOperator
from updraft.providers.slack import SlackWebhookOperator
from updraft.sdk.connection import ConnectionNotFound

SLACK_CONN_ID = "slack_alerts"

alert = SlackWebhookNotifier(
    slack_webhook_conn_id=SLACK_CONN_ID,
    text=(
        ":red_circle: {{ dag.dag_id }}.{{ ti.task_id }} failed for {{ ds }} "
        "(try {{ ti.try_number }}, run {{ run_id }}): {{ exception }}"
    ),
)


def count_stock(params: dict[str, Any], **_: Any) -> dict[str, int]:
    """Stand-in for a query: units in stock per warehouse."""
    return {"north": 120, "south": 45, "east": int(params["east_units"])}


def check_stock(ti: Any, params: dict[str, Any], **_: Any) -> int:
    """Fail when asked to (``params.fail``) or when a warehouse has run out."""
    stock = ti.xcom_pull(task_ids="count_stock")
    if params["fail"]:
        raise RuntimeError("failing on purpose: the run was triggered with params.fail = true")
    empty = sorted(name for name, units in stock.items() if units <= 0)
    if empty:
        raise ValueError(f"no stock left in: {', '.join(empty)}")
    total = sum(stock.values())
    print(f"{total} units in stock across {len(stock)} warehouses")
    return total


def skip_without_slack(context: Any) -> None:
    """``pre_execute`` of the success message: skip it when the webhook connection is not defined."""
    try:
        BaseHook.get_connection(SLACK_CONN_ID)
    except ConnectionNotFound:
        raise UpdraftSkipException(
            f"connection {SLACK_CONN_ID!r} is not defined, so no Slack message is sent: add it with "
            f"updraft connections add {SLACK_CONN_ID} --conn-json "
            '\'{"conn_type": "slackwebhook", "password": "https://hooks.slack.com/services/T.../B.../..."}\''
        ) from None


with DAG(
    dag_id="example_slack_alert_on_failure",
    description="Slack alert when a task fails, Slack message when all went well",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    params={"fail": False, "east_units": 30},
    default_args={"owner": "ops", "retries": 0, "on_failure_callback": alert},
    tags=["example", "slack", "alerting"],
    doc_md="""
    ### Slack alert on failure

    Every task has `on_failure_callback=SlackWebhookNotifier(...)`: when one fails, a message
    naming the DAG, the task, the date, the try and the error (a Jinja template rendered with
    the task's context) is posted to the incoming webhook of the connection `slack_alerts`:

        updraft connections add slack_alerts --conn-json \\
          '{"conn_type": "slackwebhook", "password": "https://hooks.slack.com/services/T.../B.../..."}'

    (`SlackNotifier` does the same through the Slack Web API with a bot token connection.)
    A notifier that fails, e.g. because Slack is down or the connection is missing, is logged
    and never changes the task's state.

    **check_stock** fails on purpose when the run is triggered with `{"fail": true}`, or when a
    warehouse has no stock (`{"east_units": 0}`). When all went well, **announce** posts a
    success message with `SlackWebhookOperator`; it is skipped when `slack_alerts` is not
    defined.
    """,
) as dag:
    counted = PythonOperator(task_id="count_stock", python_callable=count_stock)
    checked = PythonOperator(task_id="check_stock", python_callable=check_stock)
    announce = SlackWebhookOperator(
        task_id="announce",
        slack_webhook_conn_id=SLACK_CONN_ID,
        message=(
            ":large_green_circle: {{ dag.dag_id }} {{ ds }}: "
            "{{ ti.xcom_pull(task_ids='check_stock') }} units in stock"
        ),
        pre_execute=skip_without_slack,
    )

    counted >> checked >> announce
