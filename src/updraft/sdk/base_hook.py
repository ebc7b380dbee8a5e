"""``BaseHook``: the base of every hook, an object that talks to one outside system."""

from __future__ import annotations

import logging
from typing import Any

from updraft.sdk import secrets
from updraft.sdk.connection import Connection

__all__ = ["BaseHook"]


class BaseHook:
    """Subclass it; ``get_connection(conn_id)`` finds a connection through the secrets chain."""

    conn_name_attr: str = ""
    default_conn_name: str = ""
    conn_type: str = ""
    hook_name: str = ""

    def __init__(self, logger_name: str | None = None) -> None:
        self.log = logging.getLogger(logger_name or f"{type(self).__module__}.{type(self).__name__}")

    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        return secrets.get_connection(conn_id)

    def get_conn(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement get_conn()")

    def test_connection(self) -> tuple[bool, str]:
        """(ok, message): a real check against the system; hooks that can, override it."""
        return False, f"{type(self).__name__} cannot test its connection"
