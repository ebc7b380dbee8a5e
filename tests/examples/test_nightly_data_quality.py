"""``example_nightly_data_quality``: SQL checks, a CSV report mailed to a real SMTP server, the run's outcome."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.examples.conftest import EtlDb, RunExample, errors, states, xcom
from tests.providers.smtp.conftest import Inbox

DAG_ID = "example_nightly_data_quality"
TABLE = "example_dq_payments"
DAY = "2024-06-01"


@pytest.fixture
def mail(smtp_server: Inbox, monkeypatch: pytest.MonkeyPatch) -> Inbox:
    monkeypatch.setenv(
        "UPDRAFT_CONN_SMTP_DEFAULT", smtp_server.uri(starttls=False, from_email="dq@example.com")
    )
    return smtp_server


def report_rows(text: str) -> dict[tuple[str, str], str]:
    return {(row["section"], row["name"]): row["value"] for row in csv.DictReader(io.StringIO(text))}


def attachment_of(inbox: Inbox) -> tuple[str, bytes]:
    [received] = inbox.messages
    [part] = list(received.message.iter_attachments())
    content = part.get_content()
    return part.get_filename(), content if isinstance(content, bytes) else content.encode()


def profile(db: EtlDb) -> dict[str, str]:
    """The day's profile, measured here with SQL of our own."""
    total, no_customer, duplicates, lowest = db.records(
        f"SELECT COUNT(*), SUM(CASE WHEN customer_id IS NULL THEN 1 ELSE 0 END), "
        f"COUNT(payment_id) - COUNT(DISTINCT payment_id), MIN(amount) FROM {TABLE} WHERE paid_on = '{DAY}'"
    )[0]
    return {"rows": str(total), "rows_without_customer": str(no_customer), "duplicate_payment_ids": str(duplicates),
            "min_amount": f"{float(lowest):g}"}  # fmt: skip


def test_good_data_passes_and_the_report_is_mailed(
    run_example: RunExample, etl_db: EtlDb, mail: Inbox
) -> None:
    result = run_example(DAG_ID, DAY, {"report_to": "team@example.com"})
    assert result.state.value == "success", errors(result)
    assert states(result) == {
        "prepare_payments": "success",
        "column_checks": "success",
        "table_checks": "success",
        "build_report": "success",
        "email_report": "success",
        "fail_run_if_checks_failed": "skipped",
    }
    assert xcom(result, "prepare_payments") == etl_db.records(f"SELECT COUNT(*) FROM {TABLE}")[0][0]

    [received] = mail.messages
    assert received.rcpt_tos == ["team@example.com"]
    assert received.message["Subject"] == f"Data quality {DAY}: passed"
    name, data = attachment_of(mail)
    assert name == f"data_quality_{DAY}.csv"
    rows = report_rows(data.decode())
    assert rows[("check", "column_checks")] == rows[("check", "table_checks")] == "success"
    measured = profile(etl_db)
    assert {
        key: rows[("profile", key)] for key in ("rows", "rows_without_customer", "duplicate_payment_ids")
    } == {key: measured[key] for key in ("rows", "rows_without_customer", "duplicate_payment_ids")}
    assert f"{float(rows[('profile', 'min_amount')]):g}" == measured["min_amount"]
    # The file mailed is the one on disk.
    assert Path(xcom(result, "build_report")["path"]).read_bytes() == data


def test_bad_data_fails_the_checks_and_the_run_but_the_report_is_still_sent(
    run_example: RunExample, etl_db: EtlDb, mail: Inbox
) -> None:
    result = run_example(DAG_ID, DAY, {"bad_rows": True})
    got = states(result)
    assert result.state.value == "failed"
    assert got["column_checks"] == got["table_checks"] == "failed"
    assert got["build_report"] == got["email_report"] == "success"
    assert got["fail_run_if_checks_failed"] == "failed"

    failed = errors(result)
    column_error, table_error = failed["column_checks"], failed["table_checks"]
    assert "3 of 6 check(s) failed" in column_error
    assert "column 'payment_id' unique_check: got 1" in column_error
    assert "column 'customer_id' null_check: got 1" in column_error
    assert "column 'amount' min" in column_error
    assert "check 'known_currency': got false for 1 of" in table_error
    assert "enough_rows" not in table_error  # that check passed

    [received] = mail.messages
    assert received.message["Subject"] == f"Data quality {DAY}: FAILED (column_checks, table_checks)"
    rows = report_rows(attachment_of(mail)[1].decode())
    assert rows[("check", "column_checks")] == rows[("check", "table_checks")] == "failed"
    measured = profile(etl_db)
    assert rows[("profile", "rows_without_customer")] == measured["rows_without_customer"] == "1"
    assert rows[("profile", "duplicate_payment_ids")] == measured["duplicate_payment_ids"] == "1"
    assert rows[("currency", "XYZ")] == "1"

    # Fixing the data and running the day again passes: the day's rows are rewritten, not added to.
    fixed = run_example(DAG_ID, DAY)
    assert fixed.state.value == "success", errors(fixed)
    assert profile(etl_db)["rows_without_customer"] == "0"


def test_without_smtp_the_email_is_skipped_with_a_hint_and_the_run_succeeds(
    run_example: RunExample, etl_db: EtlDb
) -> None:
    result = run_example(DAG_ID, DAY)
    assert result.state.value == "success", errors(result)
    assert states(result)["email_report"] == "skipped"
    [log] = (etl_db.home / "logs").rglob("task_id=email_report/attempt=1.log")
    text = log.read_text(encoding="utf-8")
    assert "no SMTP server is configured" in text and "smtp_default" in text and "smtp_host" in text
    report = Path(xcom(result, "build_report")["path"])
    assert report_rows(report.read_text(encoding="utf-8"))[("check", "column_checks")] == "success"
