"""``EmailOperator``: send an HTML email (with attachments) through the SMTP provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from updraft.providers.smtp import send_email_of
from updraft.sdk.baseoperator import BaseOperator

__all__ = ["EmailOperator"]


class EmailOperator(BaseOperator):
    """Send ``html_content`` with ``subject`` to ``to`` (and ``cc``/``bcc``), attaching ``files``.

    Addresses are a list or one string separated by commas or semicolons. ``html_content`` may
    name a ``.html`` file found on the DAG's template search path. The server is the ``conn_id``
    connection (``smtp_default``, else the ``[smtp]`` configuration); see
    :mod:`updraft.providers.smtp.hook` for its fields.
    """

    template_fields: ClassVar[Sequence[str]] = (
        "to",
        "from_email",
        "subject",
        "html_content",
        "files",
        "cc",
        "bcc",
    )
    template_fields_renderers = {"html_content": "html"}
    template_ext: ClassVar[Sequence[str]] = (".html",)
    ui_color = "#e6faf9"

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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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

    def execute(self, context: Any) -> None:
        send_email_of(self)
