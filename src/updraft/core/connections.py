"""Connections as the runtime reads them, through ``updraft.sdk.secrets`` (env vars, then the DB).

``Connection`` and ``ConnectionNotFound`` live in ``updraft.sdk.connection``; they are re-exported here.
"""

from __future__ import annotations

from typing import Any

from updraft.core.secrets_chain import ensure_secrets_chain
from updraft.sdk import secrets
from updraft.sdk.connection import Connection, ConnectionNotFound

__all__ = ["Connection", "ConnectionAccessor", "ConnectionNotFound", "get_connection"]


def get_connection(conn_id: str) -> Connection:
    """The connection from the secrets chain (env vars, backends, then the metadata DB)."""
    ensure_secrets_chain()
    return secrets.get_connection(conn_id)


class ConnectionAccessor:
    """``{{ conn.my_db.host }}`` in templates."""

    def __getattr__(self, conn_id: str) -> Connection:
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        return get_connection(conn_id)

    def get(self, conn_id: str, default: Any = None) -> Any:
        try:
            return get_connection(conn_id)
        except ConnectionNotFound:
            return default
