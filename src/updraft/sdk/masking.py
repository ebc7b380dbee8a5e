"""Hiding secrets in what a task shows: its log, its rendered template fields, its error text.

A value is hidden once the process knows it is secret: the secrets chain registers every
connection password (and the extra fields with sensitive names) and every variable with a
sensitive name when a task reads them; user code registers anything else with
:func:`mask_secret`. :func:`redact` then replaces each registered value by ``***`` wherever it
appears in a string, and hides whole any value kept under a sensitive key (``password``,
``api_key``...). :class:`SecretsMaskingFilter` does the same to every log record a handler emits.

As in Airflow, XCom values are not masked, and a secret shorter than :data:`MIN_SECRET_LENGTH`
characters is not registered (masking ``"ab"`` everywhere would make every log unreadable).
The masker is process-wide: a secret registered by one task stays masked for the rest of the
process.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

__all__ = [
    "DEFAULT_SENSITIVE_FIELDS",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "SecretsMasker",
    "SecretsMaskingFilter",
    "get_masker",
    "is_sensitive_name",
    "mask_connection",
    "mask_secret",
    "mask_sensitive_values",
    "redact",
]

#: What a hidden value is replaced by.
REDACTED = "***"
#: Secrets shorter than this are not registered (Airflow's ``[logging] min_length_masked_secret``).
MIN_SECRET_LENGTH = 5
#: A key or variable name holding any of these words (case-insensitive) is sensitive: its value is
#: hidden whole (Airflow's default list, plus "credentials").
DEFAULT_SENSITIVE_FIELDS = frozenset(
    {
        "access_token",
        "credentials",
        "api_key",
        "apikey",
        "authorization",
        "keyfile_dict",
        "passphrase",
        "passwd",
        "password",
        "private_key",
        "secret",
        "service_account",
        "token",
    }
)
#: Nesting deeper than this is hidden as one string (guards against cyclic structures).
_MAX_DEPTH = 32


def is_sensitive_name(name: str, fields: Iterable[str] = DEFAULT_SENSITIVE_FIELDS) -> bool:
    """Whether a key or variable name looks like it holds a secret (``DB_PASSWORD``, ``apiKey``...)."""
    lowered = name.strip().lower()
    return any(word in lowered for word in fields)


def _forms(secret: str) -> set[str]:
    """The raw secret and the ways it is commonly printed: JSON- and repr-escaped, URL-quoted,
    and each line of a multi-line secret (a log shows it one line per record)."""
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], quote(secret, safe="")}
    if "\n" in secret:
        forms.update(line.strip() for line in secret.splitlines())
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class SecretsMasker:
    """The set of secret strings of this process, matched by one regex rebuilt only on change."""

    def __init__(self, sensitive_fields: Iterable[str] = DEFAULT_SENSITIVE_FIELDS) -> None:
        self.sensitive_fields = frozenset(word.lower() for word in sensitive_fields)
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def add(self, secret: Any, name: str | None = None) -> None:
        """Register ``secret``: a string, or every string inside a dict/list/tuple/set (recursively).

        Other scalars are registered by their text (a numeric password). ``name`` is accepted for
        Airflow's signature; a value given explicitly is masked whatever its name.
        """
        found: set[str] = set()
        self._collect(secret, found, 0)
        with self._lock:
            new = found - self._secrets
            if new:
                self._secrets |= new
                self._pattern = None

    def _collect(self, value: Any, found: set[str], depth: int) -> None:
        if value is None or isinstance(value, bool) or depth > _MAX_DEPTH:
            return
        if isinstance(value, dict):
            for item in value.values():
                self._collect(item, found, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                self._collect(item, found, depth + 1)
        elif isinstance(value, (str, int, float)):
            found |= _forms(str(value))

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is None and self._secrets:
            with self._lock:
                # Longest first: where two secrets overlap, the longer one is hidden whole.
                ordered = sorted(self._secrets, key=lambda s: (-len(s), s))
                pattern = self._pattern = re.compile("|".join(map(re.escape, ordered)))
        return pattern

    def redact_text(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``***``."""
        pattern = self._compiled()
        if pattern is None:
            return text
        return pattern.sub(REDACTED, text)

    def redact(self, value: Any, name: str | None = None) -> Any:
        """A copy of ``value`` with secrets hidden: values under a sensitive key (or ``name``)
        whole, registered secrets inside every string. Other values are returned as they are."""
        return self._redact(value, name, 0)

    def _redact(self, value: Any, name: str | None, depth: int) -> Any:
        if name is not None and is_sensitive_name(name, self.sensitive_fields):
            return _hide_all(value, 0)
        if isinstance(value, str):
            return self.redact_text(value)
        if depth > _MAX_DEPTH:
            return self.redact_text(repr(value))
        if isinstance(value, dict):
            return {
                key: self._redact(item, key if isinstance(key, str) else None, depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple, set, frozenset)):
            return _same_kind(value, [self._redact(item, None, depth + 1) for item in value])
        return value


def _hide_all(value: Any, depth: int) -> Any:
    """Every leaf of ``value`` as ``***``, keeping the shape of dicts and lists (and None as None)."""
    if value is None:
        return None
    if depth <= _MAX_DEPTH:
        if isinstance(value, dict):
            return {key: _hide_all(item, depth + 1) for key, item in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return _same_kind(value, [_hide_all(item, depth + 1) for item in value])
    return REDACTED


def _same_kind(original: Any, items: list[Any]) -> Any:
    """``items`` as a list, tuple or set like ``original`` (a namedtuple or subclass becomes plain)."""
    if isinstance(original, list):
        return items
    if isinstance(original, tuple):
        return tuple(items)
    return set(items)


class SecretsMaskingFilter(logging.Filter):
    """A handler filter that hides registered secrets in a record's message and traceback.

    With no secret registered it returns at once; otherwise it formats the message once, and only a
    record that held a secret is rewritten (message and args become the redacted text).
    """

    def __init__(self, masker: SecretsMasker | None = None) -> None:
        super().__init__()
        self.masker = masker if masker is not None else _masker

    def filter(self, record: logging.LogRecord) -> bool:
        masker = self.masker
        if not masker:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string; the handler reports it
            return True
        redacted = masker.redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = masker.redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = masker.redact_text(record.stack_info)
        return True


_masker = SecretsMasker()


def get_masker() -> SecretsMasker:
    """The process-wide masker that :func:`mask_secret` and :func:`redact` use."""
    return _masker


def mask_secret(secret: Any, name: str | None = None) -> None:
    """Hide ``secret`` (a string, or the strings in a dict/list) from this process's task logs,
    rendered fields and error text from now on. Register it before anything prints it."""
    _masker.add(secret, name)


def redact(value: Any, name: str | None = None) -> Any:
    """``value`` with every registered secret, and every value under a sensitive key, hidden."""
    return _masker.redact(value, name)


def mask_sensitive_values(value: Any, name: str | None = None) -> None:
    """Register the values of ``value`` kept under sensitive keys (searching nested dicts and
    lists), or all of ``value`` when ``name`` itself is sensitive (a variable named ``api_key``)."""
    if name is not None and is_sensitive_name(name, _masker.sensitive_fields):
        _masker.add(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            mask_sensitive_values(item, key if isinstance(key, str) else None)
    elif isinstance(value, (list, tuple)):
        for item in value:
            mask_sensitive_values(item)


def mask_connection(password: str | None, extra: dict[str, Any]) -> None:
    """What a connection read by a task registers: its password, and its sensitive extra fields."""
    if password:
        _masker.add(password)
    mask_sensitive_values(extra)
