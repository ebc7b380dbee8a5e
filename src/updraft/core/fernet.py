"""Encryption at rest of connection passwords and extras and of variable values (Fernet).

The key comes from ``[core] fernet_key``: one key, or several separated by commas. The first one
encrypts; every listed key decrypts, so a key can be rotated with ``"new,old"`` followed by
``updraft rotate-fernet-key``. When the option is empty a key is generated on first use into
``$UPDRAFT_HOME/fernet_key`` (mode 600) and read back from there by every later process.

A value that none of the keys decrypts raises :class:`FernetKeyMismatch`; nothing stored is ever
rewritten because of a failed decryption.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from updraft.core.config import conf, updraft_home
from updraft.sdk.exceptions import UpdraftException

__all__ = [
    "FernetKeyMismatch",
    "InvalidFernetKey",
    "decrypt",
    "encrypt",
    "fernet_key_path",
    "get_fernet",
    "reset_cache",
]

_KEY_FILE = "fernet_key"
_lock = threading.Lock()
_cache: dict[str, MultiFernet] = {}
_file_keys: dict[str, str] = {}  # key file path -> its key, read once per process


class InvalidFernetKey(UpdraftException):
    """``[core] fernet_key`` or the key file holds something that is not a Fernet key."""


class FernetKeyMismatch(UpdraftException):
    """A stored value was encrypted with a key that is not among the configured ones."""


def fernet_key_path() -> Path:
    return updraft_home() / _KEY_FILE


def _read_or_create(path: Path) -> str:
    """The key in ``path``; when missing, a new key written there atomically (mode 600)."""
    if not path.exists():
        # Write a complete temp file, then hard-link it into place: link fails when another process
        # won the race, and a reader never sees a half-written key file.
        tmp = path.with_name(f".{_KEY_FILE}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key() + b"\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def _build(keys_text: str, where: str) -> MultiFernet:
    keys = [k.strip() for k in keys_text.split(",") if k.strip()]
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise InvalidFernetKey(
                f"{where}: key #{position} is not a Fernet key (32 url-safe base64-encoded bytes); generate "
                "one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None
    if not fernets:
        raise InvalidFernetKey(f"{where}: no key")
    return MultiFernet(fernets)


def _configured() -> tuple[str, str]:
    """(keys text, where it came from)."""
    configured = conf.get("core", "fernet_key", fallback="").strip()
    if configured:
        return configured, "core.fernet_key"
    path = fernet_key_path()
    key = _file_keys.get(str(path))
    if key is None:
        key = _file_keys[str(path)] = _read_or_create(path)
    return key, f"the key file {path}"


def get_fernet() -> MultiFernet:
    """The MultiFernet of the configured keys (the first encrypts)."""
    with _lock:
        text, where = _configured()
        cached = _cache.get(text)
        if cached is None:
            cached = _cache[text] = _build(text, where)
        return cached


def reset_cache() -> None:
    with _lock:
        _cache.clear()
        _file_keys.clear()


def encrypt(value: str | None) -> str | None:
    """``value`` encrypted with the first key (None stays None)."""
    if value is None:
        return None
    return get_fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str | None, what: str) -> str | None:
    """Decrypt a stored value; ``what`` names it in the error (e.g. ``connection 'db'``)."""
    if token is None:
        return None
    try:
        return get_fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        _, where = _configured()
        raise FernetKeyMismatch(
            f"cannot decrypt {what}: the fernet key does not match the one it was written with (the key "
            f"now comes from {where}); set core.fernet_key to the key it was written with (a comma-"
            "separated list is accepted: the first encrypts, all decrypt)"
        ) from None
