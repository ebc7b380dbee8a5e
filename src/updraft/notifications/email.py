"""``EmailNotifier``: a callback that sends an email (Airflow's ``SmtpNotifier``/``EmailNotifier``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from updraft.notifications.base import BaseNotifier
from updraft.providers.smtp import send_email_of

__all__ = ["EmailNotifier"]


class EmailNotifier(BaseNotifier):
    """Email ``to`` when called back: ``on_failure_callback=EmailNotifier(to=..., subject=...)``.

    ``to``, ``subject``, ``html_content`` and ``files`` are templates rendered with the callback's
    context (``{{ ti.task_id }}``, ``{{ exception }}``, ...); ``html_content`` may name a ``.html``
    file on the DAG's template search path.
    """

    template_fields = ("to", "from_email", "subject", "html_content", "files", "cc", "bcc")
    template_ext = (".html",)

    def __init__(
        self,
        *,
        to: str | Sequence[str],
        subject: str,
        html_content: str,
        files: Sequence[str] | None = None,
        cc: str | Sequence[str] | None = None,
        bcc: str | Sequence[str] | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        conn_id: str = "smtp_default",
        from_email: str | None = None,
        custom_headers: dict[str, str] | None = None,
    ) -> None:
        self.to = to
        self.subject = subject
        self.html_content = html_content
        self.files = list(files) if files else []
        self.cc = cc
        self.bcc = bcc
        self.mime_subtype = mime_subtype
        self.mime_charset = mime_charset
        self.conn_id = conn_id
        self.from_email = from_email
        self.custom_headers = custom_headers

    def notify(self, context: Any) -> None:
        send_email_of(self)

    def __repr__(self) -> str:
        return f"<EmailNotifier to={self.to!r} via {self.conn_id!r}>"
