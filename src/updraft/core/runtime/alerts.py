"""Airflow's failure and retry emails: ``email_on_failure`` / ``email_on_retry`` of a task with ``email``.

When a try fails (state FAILED) or goes up for retry (UP_FOR_RETRY), and the task has ``email``
and the matching flag (both true by default, as in Airflow), one alert is sent through the SMTP
provider's ``smtp_default`` connection: the subject names the task instance, the body the DAG,
task, run, try, the exception and a link to the task's log in the web UI. Sending is best effort:
a failure to send is logged and never changes the task's state.
"""

from __future__ import annotations

import html
import logging
import traceback
from typing import Any
from urllib.parse import quote, urlencode

from updraft.core.config import conf
from updraft.core.runtime.task_instance import RuntimeTaskInstance
from updraft.providers.smtp import get_email_address_list, send_email
from updraft.sdk.states import TaskInstanceState as TI

__all__ = ["alert_recipients", "log_url", "render_alert", "send_alert_email"]

log = logging.getLogger("updraft.task")


def alert_recipients(task: Any, state: TI) -> list[str]:
    """Who gets an alert for a try that ended in ``state`` (none unless the task asks for it)."""
    flag = {TI.FAILED: "email_on_failure", TI.UP_FOR_RETRY: "email_on_retry"}.get(state)
    if flag is None or not getattr(task, flag, True):
        return []
    return get_email_address_list(getattr(task, "email", None))


def log_url(ti: RuntimeTaskInstance) -> str:
    base = conf.get("webserver", "base_url").rstrip("/")
    query = {"run_id": ti.run_id, "task_id": ti.task_id}
    if ti.map_index >= 0:
        query["map_index"] = str(ti.map_index)
    return f"{base}/dags/{quote(ti.dag_id, safe='')}?{urlencode(query)}"


def render_alert(ti: RuntimeTaskInstance, state: TI, exc: BaseException | None) -> tuple[str, str]:
    """(subject, HTML body) of the alert for ``ti``'s try that ended in ``state``."""
    index = f"[{ti.map_index}]" if ti.map_index >= 0 else ""
    subject = f"Updraft alert: <TaskInstance: {ti.dag_id}.{ti.task_id}{index} {ti.run_id} [{state.value}]>"
    what = "failed" if state is TI.FAILED else "failed and will be retried"
    error = "".join(traceback.format_exception(exc)).rstrip() if exc is not None else "(no exception)"
    url = log_url(ti)
    rows = [
        ("DAG", ti.dag_id),
        ("Task", f"{ti.task_id}{index}"),
        ("Run", ti.run_id),
        ("Try", f"{ti.try_number} of {ti.max_tries + 1}"),
        ("Host", ti.hostname),
    ]
    table = "".join(f"<tr><th align='left'>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    body = (
        f"<p>Task {html.escape(ti.task_id)} {what}.</p>"
        f"<table>{table}</table>"
        f"<p>Exception:</p><pre>{html.escape(error)}</pre>"
        f'<p>Log: <a href="{html.escape(url)}">{html.escape(url)}</a></p>'
    )
    return subject, body


def send_alert_email(task: Any, ti: RuntimeTaskInstance, state: TI, exc: BaseException | None) -> None:
    """Send the alert if the task asks for one; any error is logged, never raised."""
    try:
        recipients = alert_recipients(task, state)
        if not recipients:
            return
        subject, body = render_alert(ti, state, exc)
        send_email(recipients, subject, body)
    except Exception:  # an alert that cannot be sent never changes the task's state
        log.exception("Could not send the %s email alert for %s", state.value, ti)
        return
    log.info("Sent the %s email alert for %s to %s", state.value, ti, ", ".join(recipients))
