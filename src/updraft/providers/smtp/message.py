"""Building an email: the recipient lists Airflow accepts and a MIME message with attachments."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from email import policy
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from pathlib import Path

__all__ = ["AddressList", "build_message", "get_email_address_list"]

AddressList = str | Iterable[str]
_SEPARATORS = re.compile(r"[,;]")


def get_email_address_list(addresses: AddressList | None) -> list[str]:
    """``"a@x, b@x; c@x"`` or a list of such strings, as a flat list of addresses."""
    if addresses is None:
        return []
    items = [addresses] if isinstance(addresses, str) else list(addresses)
    found: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"an email address must be a string, got {item!r}")
        found.extend(part.strip() for part in _SEPARATORS.split(item) if part.strip())
    return found


def _attachment(path: str | Path) -> MIMEApplication:
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise FileNotFoundError(f"cannot attach {str(file)!r} to the email: {exc.strerror or exc}") from exc
    kind, _ = mimetypes.guess_type(file.name)
    subtype = kind.split("/", 1)[1] if kind and kind.startswith("application/") else "octet-stream"
    part = MIMEApplication(data, _subtype=subtype, policy=policy.SMTP)
    part.add_header("Content-Disposition", "attachment", filename=file.name)
    return part


def build_message(
    *,
    from_email: str,
    to: list[str],
    subject: str,
    html_content: str,
    files: Iterable[str | Path] | None = None,
    cc: list[str] | None = None,
    mime_subtype: str = "mixed",
    mime_charset: str = "utf-8",
    custom_headers: dict[str, str] | None = None,
) -> MIMEMultipart:
    """A ``multipart/<mime_subtype>`` message: the HTML body, then one part per attached file.

    Bcc recipients are not headers: the sender adds them to the envelope only.
    """
    msg = MIMEMultipart(mime_subtype, policy=policy.SMTP)
    msg["Subject"] = subject
    msg["From"] = from_email
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=from_email.rpartition("@")[2] or None)
    for name, value in (custom_headers or {}).items():
        msg[name] = value
    msg.attach(MIMEText(html_content, "html", mime_charset, policy=policy.SMTP))
    for path in files or ():
        msg.attach(_attachment(path))
    return msg
