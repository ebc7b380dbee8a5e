"""``send_email`` against a real SMTP server on loopback: recipients, headers, body, attachments, TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.providers.smtp.conftest import LOGIN, PASSWORD, Inbox, free_port
from updraft.core.config import DEFAULTS
from updraft.providers.smtp import CONFIG_DEFAULTS, SmtpError, SmtpHook, send_email


def test_delivers_to_cc_and_bcc_with_html_body_and_attachment(
    smtp_server: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "UPDRAFT_CONN_SMTP_DEFAULT", smtp_server.uri(starttls=False, from_email="bot@example.com")
    )
    report = tmp_path / "report.csv"
    report.write_bytes(b"id,value\n1,\xc3\xa9t\xc3\xa9\n")

    accepted = send_email(
        "a@example.com; b@example.com",
        "Rapport d'été",
        "<h1>Done</h1><p>All good.</p>",
        files=[str(report)],
        cc=["c@example.com"],
        bcc="hidden@example.com",
    )

    assert len(smtp_server.messages) == 1
    got = smtp_server.messages[0]
    everyone = ["a@example.com", "b@example.com", "c@example.com", "hidden@example.com"]
    assert accepted == everyone
    assert got.rcpt_tos == everyone
    assert got.mail_from == "bot@example.com"
    msg = got.message
    assert msg["Subject"] == "Rapport d'été"
    assert msg["To"] == "a@example.com, b@example.com"
    assert msg["Cc"] == "c@example.com"
    assert msg["Bcc"] is None  # bcc is in the envelope only
    assert msg.get_content_type() == "multipart/mixed"
    body = msg.get_body(("html",))
    assert body is not None and body.get_content().strip() == "<h1>Done</h1><p>All good.</p>"
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["report.csv"]
    assert attachments[0].get_payload(decode=True) == report.read_bytes()


def test_starttls_login_trusting_a_self_signed_certificate_from_ca_file(
    tls_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = tls_server.uri(
        login=LOGIN, password=PASSWORD, from_email="bot@example.com", ca_file=str(tls_server.ca_file)
    )
    monkeypatch.setenv("UPDRAFT_CONN_SMTP_DEFAULT", uri)

    send_email(["ops@example.com"], "over TLS", "<p>secret</p>")

    assert tls_server.logins == [LOGIN]
    assert [m.message["Subject"] for m in tls_server.messages] == ["over TLS"]


def test_a_self_signed_certificate_is_refused_by_default(
    tls_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "UPDRAFT_CONN_MAIL", tls_server.uri(login=LOGIN, password=PASSWORD, from_email="b@example.com")
    )

    with pytest.raises(SmtpError) as err:
        send_email("ops@example.com", "never", "<p>never</p>", conn_id="mail")

    text = str(err.value)
    assert "SMTP connection 'mail'" in text and "certificate" in text.lower() and "ca_file" in text
    assert PASSWORD not in text
    assert tls_server.messages == [] and tls_server.logins == []


def test_a_wrong_password_names_the_connection_and_login_but_not_the_password(
    tls_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = tls_server.uri(
        login=LOGIN, password="wrong-pw", from_email="b@example.com", ca_file=str(tls_server.ca_file)
    )
    monkeypatch.setenv("UPDRAFT_CONN_SMTP_DEFAULT", uri)

    with pytest.raises(SmtpError, match=r"SMTP connection 'smtp_default'.*refused the login 'alice'") as err:
        send_email("ops@example.com", "never", "<p>never</p>")
    assert "wrong-pw" not in str(err.value)


def test_an_unreachable_server_names_the_connection_and_address(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv(
        "UPDRAFT_CONN_SMTP_DEFAULT", f"smtp://u:pw-123@127.0.0.1:{port}?starttls=false&timeout=5"
    )

    with pytest.raises(SmtpError) as err:
        send_email("ops@example.com", "never", "<p>never</p>")

    text = str(err.value)
    assert f"SMTP connection 'smtp_default': cannot reach the SMTP server 127.0.0.1:{port}" in text
    assert "pw-123" not in text


def test_bad_extra_values_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT_CONN_SMTP_DEFAULT", "smtp://mail.example.com?starttls=maybe")
    with pytest.raises(
        SmtpError, match="SMTP connection 'smtp_default': extra 'starttls' must be true or false"
    ):
        send_email("ops@example.com", "never", "<p>never</p>")
    monkeypatch.setenv("UPDRAFT_CONN_SMTP_DEFAULT", "smtp://mail.example.com?use_tls=true")
    with pytest.raises(SmtpError, match=r"unknown extra field\(s\) \['use_tls'\]"):
        send_email("ops@example.com", "never", "<p>never</p>")


def test_without_a_connection_the_smtp_config_section_is_used(
    smtp_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UPDRAFT_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setenv("UPDRAFT__SMTP__SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("AIRFLOW__SMTP__SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("UPDRAFT__SMTP__SMTP_STARTTLS", "False")
    monkeypatch.setenv("UPDRAFT__SMTP__SMTP_MAIL_FROM", "config@example.com")

    send_email("ops@example.com", "from config", "<p>hi</p>")

    assert [(m.mail_from, m.message["Subject"]) for m in smtp_server.messages] == [
        ("config@example.com", "from config")
    ]


def test_a_missing_named_connection_is_an_error_not_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KeyError, match="connection 'no_such_mail' is not defined"):
        SmtpHook("no_such_mail").send_email("ops@example.com", "never", "<p>never</p>")


def test_provider_defaults_match_the_registered_config_options() -> None:
    registered = {o.key: o.default for o in DEFAULTS if o.section == "smtp"}
    assert registered == CONFIG_DEFAULTS


def test_connections_test_reaches_the_smtp_server(
    smtp_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from updraft.providers.registry import test_connection

    monkeypatch.setenv("UPDRAFT_CONN_MAILER", smtp_server.uri(starttls=False))
    ok, message = test_connection("mailer")
    assert ok, message
    monkeypatch.setenv("UPDRAFT_CONN_MAILER", f"smtp://127.0.0.1:{free_port()}?starttls=false")
    ok, message = test_connection("mailer")
    assert not ok and "mailer" in message
