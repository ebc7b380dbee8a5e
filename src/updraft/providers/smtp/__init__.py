"""Email over SMTP: ``send_email`` and ``SmtpHook``, configured by a connection (``smtp_default``)."""

from __future__ import annotations

from updraft.providers.smtp.hook import (
    CONFIG_DEFAULTS,
    SmtpError,
    SmtpHook,
    SmtpSettings,
    send_email,
    send_email_of,
)
from updraft.providers.smtp.message import build_message, get_email_address_list

__all__ = [
    "CONFIG_DEFAULTS",
    "SmtpError",
    "SmtpHook",
    "SmtpSettings",
    "build_message",
    "get_email_address_list",
    "send_email",
    "send_email_of",
]
