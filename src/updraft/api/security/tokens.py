"""API access tokens (JWT, HS256) and the secret key that signs them and the session cookie.

A token's claims: ``sub`` (the username), ``roles`` (for the client's information; the server
reads roles from the DB on every request), ``iat`` and ``exp`` (``[api] access_token_expiration``
seconds later). The key is ``[api] secret_key`` when set; otherwise it is generated on first use
into ``$UPDRAFT_HOME/api_secret_key`` (mode 600) and read from there by every process, so workers
and restarts agree. There is no built-in default key.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt

from updraft.core.config import conf, updraft_home

__all__ = ["ALGORITHM", "InvalidToken", "decode_token", "issue_token", "secret_key", "secret_key_path"]

ALGORITHM = "HS256"
_KEY_FILE = "api_secret_key"
_lock = threading.Lock()
_cache: dict[str, bytes] = {}


class InvalidToken(Exception):
    """The token is malformed, tampered with, signed with another key, or expired."""


def secret_key_path() -> Path:
    return updraft_home() / _KEY_FILE


def secret_key() -> bytes:
    """The signing key: ``[api] secret_key``, else the key file (created, mode 600, if missing)."""
    configured = conf.get("api", "secret_key", fallback="")
    if configured:
        return configured.encode("utf-8")
    path = secret_key_path()
    with _lock:
        cached = _cache.get(str(path))
        if cached is not None:
            return cached
        key = _read_or_create(path)
        _cache[str(path)] = key
        return key


def _read_or_create(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise RuntimeError(
                f"the API secret key file {path} is shorter than 32 bytes; delete it"
            ) from None
        return key
    key = secrets.token_urlsafe(48).encode("ascii")
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    return key


def issue_token(
    username: str, roles: Iterable[str], *, expires_in: int | None = None, now: datetime | None = None
) -> str:
    """A signed JWT for ``username``, valid ``expires_in`` seconds (default from config)."""
    if expires_in is None:
        expires_in = conf.getint("api", "access_token_expiration")
    issued = now or datetime.now(timezone.utc)
    claims: dict[str, Any] = {
        "sub": username,
        "roles": sorted(roles),
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=expires_in)).timestamp()),
    }
    return jwt.encode(claims, secret_key(), algorithm=ALGORITHM)


def decode_token(token: str) -> dict[str, Any]:
    """The claims of a valid token; InvalidToken otherwise (the reason is in the message)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret_key(), algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("the token is not valid") from None
    if not isinstance(claims.get("sub"), str):
        raise InvalidToken("the token names no user")
    return claims
