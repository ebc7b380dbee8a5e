"""Email in real DAG runs (``test_dag``): EmailOperator, EmailNotifier, and failure/retry alerts."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.providers.smtp.conftest import Inbox
from updraft.core.runtime import dag_test
from updraft.notifications import BaseNotifier, EmailNotifier

HEADER = """\
from datetime import datetime, timedelta, timezone
from updraft import DAG
from updraft.operators import EmailOperator, PythonOperator
from updraft.notifications import BaseNotifier, EmailNotifier

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def fail(**_):
    raise RuntimeError("disk on fire")


class Broken(BaseNotifier):
    def notify(self, context):
        raise ValueError("notifier bug")
"""


@pytest.fixture
def run_dag(updraft_home: Path, tmp_path: Path, smtp_server: Inbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Write a DAG file and run it with ``test_dag``, emails going to ``smtp_server``."""
    folder = tmp_path / "dags"
    folder.mkdir()
    monkeypatch.setenv("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{updraft_home / 'test.db'}")
    monkeypatch.setenv("UPDRAFT__WEBSERVER__BASE_URL", "https://updraft.example.com/")
    monkeypatch.setenv(
        "UPDRAFT_CONN_SMTP_DEFAULT", smtp_server.uri(starttls=False, from_email="bot@example.com")
    )

    def run(dag_id: str, body: str) -> dict[str, tuple[str | None, int]]:
        (folder / f"{dag_id}.py").write_text(HEADER + textwrap.dedent(body))
        result: dag_test.RunResult = dag_test.test_dag(
            dag_id, "2024-03-05T06:07:08+00:00", dags_folder=str(folder)
        )
        return {r.task_id: (r.state.value if r.state else None, r.try_number) for r in result.records}

    return run


def test_email_operator_sends_its_rendered_templates_and_attachment(
    run_dag: Any, smtp_server: Inbox, tmp_path: Path
) -> None:
    attachment = tmp_path / "data.bin"
    attachment.write_bytes(bytes(range(256)))
    states = run_dag(
        "mailer",
        f"""
        with DAG("mailer", start_date=START, schedule=None) as dag:
            EmailOperator(
                task_id="send",
                to="{{{{ params.who }}}}@example.com",
                subject="Report for {{{{ ds }}}}",
                html_content="<p>run {{{{ run_id }}}}</p>",
                files=["{attachment}"],
                bcc=["audit@example.com"],
                params={{"who": "team"}},
            )
        """,
    )
    assert states == {"send": ("success", 1)}
    [got] = smtp_server.messages
    assert got.rcpt_tos == ["team@example.com", "audit@example.com"]
    assert got.message["Subject"] == "Report for 2024-03-05"
    body = got.message.get_body(("html",))
    assert body is not None and "run manual__2024-03-05T06:07:08+00:00" in body.get_content()
    [part] = list(got.message.iter_attachments())
    assert (part.get_filename(), part.get_payload(decode=True)) == ("data.bin", bytes(range(256)))


def test_a_failed_task_with_email_sends_one_alert(run_dag: Any, smtp_server: Inbox) -> None:
    states = run_dag(
        "alerting",
        """
        with DAG("alerting", start_date=START, schedule=None) as dag:
            PythonOperator(task_id="boom", python_callable=fail, email=["ops@example.com"])
            PythonOperator(task_id="quiet", python_callable=fail, email="ops@example.com", email_on_failure=False)
            PythonOperator(task_id="nobody", python_callable=fail)
        """,
    )
    assert states == {"boom": ("failed", 1), "quiet": ("failed", 1), "nobody": ("failed", 1)}
    [got] = smtp_server.messages
    assert got.rcpt_tos == ["ops@example.com"]
    assert got.message["Subject"] == (
        "Updraft alert: <TaskInstance: alerting.boom manual__2024-03-05T06:07:08+00:00 [failed]>"
    )
    body = got.message.get_body(("html",))
    assert body is not None
    html = body.get_content()
    assert "boom" in html and "1 of 1" in html and "RuntimeError: disk on fire" in html
    assert (
        "https://updraft.example.com/dags/alerting?run_id=manual__2024-03-05T06%3A07%3A08%2B00%3A00&amp;task_id=boom"
        in html
    )


def test_a_retried_task_sends_a_retry_alert_then_a_failure_alert(run_dag: Any, smtp_server: Inbox) -> None:
    states = run_dag(
        "retrying",
        """
        with DAG("retrying", start_date=START, schedule=None) as dag:
            PythonOperator(
                task_id="flaky", python_callable=fail, email="ops@example.com", retries=1, retry_delay=0
            )
        """,
    )
    assert states == {"flaky": ("failed", 2)}
    subjects = [m.message["Subject"] for m in smtp_server.messages]
    assert [s.rsplit(" ", 1)[-1] for s in subjects] == ["[up_for_retry]>", "[failed]>"]
    bodies = [m.message.get_body(("html",)).get_content() for m in smtp_server.messages]  # type: ignore[union-attr]
    assert "1 of 2" in bodies[0] and "2 of 2" in bodies[1]


def test_a_failing_notifier_changes_nothing_and_the_next_callback_still_runs(
    run_dag: Any, smtp_server: Inbox
) -> None:
    states = run_dag(
        "notified",
        """
        notify = EmailNotifier(
            to="ops@example.com",
            subject="{{ ti.task_id }} of {{ dag.dag_id }} failed on try {{ ti.try_number }}",
            html_content="<p>{{ exception }}</p>",
        )
        with DAG("notified", start_date=START, schedule=None) as dag:
            PythonOperator(task_id="fine", python_callable=lambda: None, on_success_callback=Broken())
            PythonOperator(task_id="bad", python_callable=fail, on_failure_callback=[Broken(), notify])
        """,
    )
    assert states == {"fine": ("success", 1), "bad": ("failed", 1)}
    [got] = smtp_server.messages
    assert got.message["Subject"] == "bad of notified failed on try 1"
    body = got.message.get_body(("html",))
    assert body is not None and body.get_content().strip() == "<p>disk on fire</p>"


def test_a_notifier_renders_a_fresh_copy_for_each_call(
    smtp_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPDRAFT_CONN_SMTP_DEFAULT", smtp_server.uri(starttls=False))
    notifier = EmailNotifier(
        to="{{ who }}@example.com", subject="hello {{ who }}", html_content="<p>{{ who }}</p>"
    )

    notifier({"who": "ann"})
    notifier({"who": "bob"})

    assert [(m.rcpt_tos, m.message["Subject"]) for m in smtp_server.messages] == [
        (["ann@example.com"], "hello ann"),
        (["bob@example.com"], "hello bob"),
    ]
    assert notifier.subject == "hello {{ who }}"


def test_a_notifier_template_error_names_the_notifier_and_field() -> None:
    class Shout(BaseNotifier):
        template_fields = ("text",)

        def __init__(self, text: str) -> None:
            self.text = text

        def notify(self, context: Any) -> None:
            raise AssertionError("not reached")

    with pytest.raises(Exception, match=r"notifier Shout: cannot render template field 'text'.*'missing'"):
        Shout("{{ missing }}")({})
