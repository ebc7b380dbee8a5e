"""Password hashing: memory-hard scrypt with a random salt, verified in constant time.

A hash is one self-describing string, ``scrypt$n$r$p$salt$hash`` (salt and hash in URL-safe base64
without padding), so the cost parameters may grow later and old hashes still verify. Lives in
``updraft.core`` so that the CLI can create users without the web stack;
``updraft.api.security.passwords`` re-exports it. Nothing here logs or stores a plain password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["generate_password", "hash_password", "verify_password"]

_N = 2**14
_R = 8
_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAX_MEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """The ``scrypt$n$r$p$salt$hash`` string of ``password`` with a new random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAX_MEM, dklen=_KEY_BYTES
    )
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded``; False (never an error) for a malformed hash."""
    try:
        scheme, n, r, p, salt, expected = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected_key = _unb64(expected)
        key = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAX_MEM,
            dklen=len(expected_key),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(key, expected_key)


def generate_password(length: int = 20) -> str:
    """A random password of URL-safe characters (about 6 bits each)."""
    return secrets.token_urlsafe(length)[:length]
