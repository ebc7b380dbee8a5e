"""Sending email over SMTP: where the server settings come from, the TLS rules, and the send.

Settings come from the connection (``smtp_default`` unless told otherwise): host, port, login,
password, and in ``extra``:

- ``ssl`` (bool, default false): implicit TLS from the first byte (usually port 465);
- ``starttls`` (bool, default true): upgrade a plain connection with STARTTLS before login;
- ``timeout`` (seconds, default 30);
- ``from_email``: the sender when the caller gives none (else ``[smtp] smtp_mail_from``);
- ``ca_file``: a PEM file of certificates to trust instead of the system's (a private CA or a
  self-signed server certificate).

Without an ``smtp_default`` connection, the ``[smtp]`` configuration is used, read from the
``UPDRAFT__SMTP__<KEY>`` (or ``AIRFLOW__SMTP__<KEY>``) environment variables: this layer sits
below ``updraft.core`` and cannot read ``updraft.cfg``. Certificates are always verified, host
name included, with Python's default SSL context. Errors name the connection, never the password.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from updraft.providers.smtp.message import AddressList, build_message, get_email_address_list
from updraft.sdk import secrets
from updraft.sdk.base_hook import BaseHook
from updraft.sdk.connection import Connection, ConnectionNotFound
from updraft.sdk.exceptions import UpdraftException

__all__ = ["CONFIG_DEFAULTS", "SmtpError", "SmtpHook", "SmtpSettings", "send_email", "send_email_of"]

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "smtp_default"

#: The ``[smtp]`` options and their defaults (the same as registered in updraft's configuration).
CONFIG_DEFAULTS: dict[str, str] = {
    "smtp_host": "localhost",
    "smtp_port": "25",
    "smtp_starttls": "True",
    "smtp_ssl": "False",
    "smtp_user": "",
    "smtp_password": "",
    "smtp_mail_from": "updraft@example.com",
    "smtp_timeout": "30",
}
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class SmtpError(UpdraftException):
    """The SMTP settings are wrong, or the server could not be reached or refused the message."""


def smtp_config(key: str) -> str:
    """An ``[smtp]`` option from the environment (``UPDRAFT__SMTP__KEY``, then ``AIRFLOW__``), else its default."""
    for prefix in ("UPDRAFT", "AIRFLOW"):
        value = os.environ.get(f"{prefix}__SMTP__{key.upper()}")
        if value is not None:
            return value
    return CONFIG_DEFAULTS[key]


def _as_bool(value: Any, name: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SmtpError(f"{where}: {name} must be true or false, got {value!r}")


def _as_number(value: Any, name: str, where: str, kind: type[int] | type[float]) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SmtpError(f"{where}: {name} must be a number, got {value!r}") from None
    if number <= 0:
        raise SmtpError(f"{where}: {name} must be positive, got {value!r}")
    return number


@dataclass(frozen=True)
class SmtpSettings:
    """Everything needed to reach one SMTP server; ``source`` says where it came from, for errors."""

    source: str
    host: str
    port: int
    login: str | None = None
    password: str | None = None
    ssl: bool = False
    starttls: bool = True
    timeout: float = 30.0
    from_email: str | None = None
    ca_file: str | None = None

    def __repr__(self) -> str:  # never the password
        return f"SmtpSettings({self.source}, {self.host}:{self.port}, login={self.login!r})"

    @classmethod
    def from_connection(cls, conn: Connection) -> SmtpSettings:
        where = f"SMTP connection {conn.conn_id!r}"
        extra = conn.extra_dejson
        known = {"ssl", "starttls", "timeout", "from_email", "ca_file"}
        unknown = sorted(set(extra) - known)
        if unknown:
            raise SmtpError(f"{where}: unknown extra field(s) {unknown}; known: {sorted(known)}")
        if not conn.host:
            raise SmtpError(f"{where} has no host")
        use_ssl = _as_bool(extra.get("ssl", False), "extra 'ssl'", where)
        starttls = _as_bool(extra.get("starttls", not use_ssl), "extra 'starttls'", where)
        if use_ssl and starttls:
            raise SmtpError(f"{where}: extra 'ssl' and 'starttls' exclude each other; set one of them")
        port = conn.port if conn.port else (465 if use_ssl else 25)
        ca_file = extra.get("ca_file") or None
        if ca_file is not None and not Path(ca_file).is_file():
            raise SmtpError(f"{where}: extra 'ca_file' {ca_file!r} is not a file")
        return cls(
            source=where,
            host=conn.host,
            port=_as_number(port, "port", where, int),
            login=conn.login or None,
            password=conn.password or None,
            ssl=use_ssl,
            starttls=starttls,
            timeout=_as_number(extra.get("timeout", 30), "extra 'timeout'", where, float),
            from_email=extra.get("from_email") or None,
            ca_file=ca_file,
        )

    @classmethod
    def from_config(cls) -> SmtpSettings:
        where = "SMTP configuration [smtp]"
        use_ssl = _as_bool(smtp_config("smtp_ssl"), "smtp_ssl", where)
        starttls = _as_bool(smtp_config("smtp_starttls"), "smtp_starttls", where) and not use_ssl
        return cls(
            source=f"{where} (no connection {DEFAULT_CONN_ID!r})",
            host=smtp_config("smtp_host"),
            port=_as_number(smtp_config("smtp_port"), "smtp_port", where, int),
            login=smtp_config("smtp_user") or None,
            password=smtp_config("smtp_password") or None,
            ssl=use_ssl,
            starttls=starttls,
            timeout=_as_number(smtp_config("smtp_timeout"), "smtp_timeout", where, float),
            from_email=smtp_config("smtp_mail_from") or None,
        )


def resolve_settings(conn_id: str = DEFAULT_CONN_ID) -> SmtpSettings:
    """The connection's settings; for a missing ``smtp_default`` only, the ``[smtp]`` configuration."""
    try:
        conn = secrets.get_connection(conn_id)
    except ConnectionNotFound:
        if conn_id != DEFAULT_CONN_ID:
            raise
        return SmtpSettings.from_config()
    return SmtpSettings.from_connection(conn)


class SmtpHook(BaseHook):
    """A client for one SMTP server, reached through a connection (``conn_type`` ``smtp``)."""

    conn_name_attr = "smtp_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "smtp"
    hook_name = "SMTP"

    def __init__(self, smtp_conn_id: str = DEFAULT_CONN_ID) -> None:
        super().__init__()
        self.smtp_conn_id = smtp_conn_id
        self._settings: SmtpSettings | None = None

    @property
    def settings(self) -> SmtpSettings:
        if self._settings is None:
            self._settings = resolve_settings(self.smtp_conn_id)
        return self._settings

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def get_conn(self) -> smtplib.SMTP:
        """A connected client, upgraded to TLS and logged in as the settings say; close it after use."""
        s = self.settings
        target = f"{s.host}:{s.port}"
        client: smtplib.SMTP
        try:
            if s.ssl:
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._ssl_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        except ssl.SSLError as exc:
            raise SmtpError(f"{s.source}: TLS with {target} failed: {exc}{_ca_hint(s)}") from exc
        except OSError as exc:
            raise SmtpError(f"{s.source}: cannot reach the SMTP server {target}: {exc}") from exc
        try:
            if s.starttls:
                client.starttls(context=self._ssl_context())
            if s.login:
                client.login(s.login, s.password or "")
        except smtplib.SMTPNotSupportedError as exc:
            client.close()
            raise SmtpError(
                f"{s.source}: the server {target} does not offer STARTTLS; set extra 'starttls' to false "
                "(or 'ssl' to true) if that is intended"
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            client.close()
            raise SmtpError(f"{s.source}: {target} refused the login {s.login!r}: {exc.smtp_code}") from exc
        except ssl.SSLError as exc:
            client.close()
            raise SmtpError(f"{s.source}: STARTTLS with {target} failed: {exc}{_ca_hint(s)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            client.close()
            raise SmtpError(f"{s.source}: talking to {target} failed: {exc}") from exc
        return client

    def test_connection(self) -> tuple[bool, str]:
        try:
            client = self.get_conn()
        except (SmtpError, ConnectionNotFound) as exc:
            return False, str(exc)
        client.quit()
        return True, f"connected to {self.settings.host}:{self.settings.port}"

    def send_email(
        self,
        to: AddressList,
        subject: str,
        html_content: str,
        files: Iterable[str | Path] | None = None,
        cc: AddressList | None = None,
        bcc: AddressList | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        from_email: str | None = None,
        custom_headers: dict[str, str] | None = None,
    ) -> list[str]:
        """Send one message; returns the envelope recipients (to, cc and bcc)."""
        s = self.settings
        sender = from_email or s.from_email or smtp_config("smtp_mail_from")
        if not sender:
            raise SmtpError(
                f"{s.source}: no sender; pass from_email, set extra 'from_email' or [smtp] smtp_mail_from"
            )
        to_list = get_email_address_list(to)
        if not to_list:
            raise SmtpError("cannot send an email without recipients: 'to' is empty")
        cc_list = get_email_address_list(cc)
        recipients = [*to_list, *cc_list, *get_email_address_list(bcc)]
        msg = build_message(
            from_email=sender,
            to=to_list,
            subject=subject,
            html_content=html_content,
            files=files,
            cc=cc_list,
            mime_subtype=mime_subtype,
            mime_charset=mime_charset,
            custom_headers=custom_headers,
        )
        client = self.get_conn()
        try:
            client.send_message(msg, from_addr=sender, to_addrs=recipients)
        except (smtplib.SMTPException, OSError) as exc:
            raise SmtpError(f"{s.source}: {s.host}:{s.port} did not accept the message: {exc}") from exc
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
        log.info("Sent email %r to %s via %s", subject, ", ".join(recipients), s.source)
        return recipients


def _ca_hint(s: SmtpSettings) -> str:
    if s.ca_file:
        return f" (trusting only the certificates in {s.ca_file!r})"
    return "; to trust a private or self-signed certificate, set the connection's extra 'ca_file'"


def send_email(
    to: AddressList,
    subject: str,
    html_content: str,
    files: Iterable[str | Path] | None = None,
    cc: AddressList | None = None,
    bcc: AddressList | None = None,
    mime_subtype: str = "mixed",
    mime_charset: str = "utf-8",
    conn_id: str = DEFAULT_CONN_ID,
    from_email: str | None = None,
    custom_headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> list[str]:
    """Send an HTML email (Airflow's ``send_email``); ``to``/``cc``/``bcc`` are strings or lists."""
    if kwargs:
        log.debug("send_email ignores the arguments %s", sorted(kwargs))
    return SmtpHook(conn_id).send_email(
        to,
        subject,
        html_content,
        files=files,
        cc=cc,
        bcc=bcc,
        mime_subtype=mime_subtype,
        mime_charset=mime_charset,
        from_email=from_email,
        custom_headers=custom_headers,
    )


def send_email_of(source: Any) -> Any:
    """``send_email`` with the (already rendered) fields of an ``EmailOperator`` or ``EmailNotifier``:
    ``to``, ``subject``, ``html_content``, ``files``, ``cc``, ``bcc``, ``mime_subtype``,
    ``mime_charset``, ``conn_id``, ``from_email`` and ``custom_headers``."""
    return send_email(
        source.to,
        source.subject,
        source.html_content,
        files=source.files,
        cc=source.cc,
        bcc=source.bcc,
        mime_subtype=source.mime_subtype,
        mime_charset=source.mime_charset,
        conn_id=source.conn_id,
        from_email=source.from_email,
        custom_headers=source.custom_headers,
    )
