"""Password hashing for login (scrypt, constant-time verify).

The implementation is :mod:`updraft.core.passwords`, so that the CLI (which must not need the web
stack) hashes passwords the same way; this module is the name the API side imports.
"""

from __future__ import annotations

from updraft.core.passwords import generate_password, hash_password, verify_password

__all__ = ["generate_password", "hash_password", "verify_password"]
