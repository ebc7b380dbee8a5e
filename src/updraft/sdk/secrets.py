"""Where connections and variables come from: a chain of secrets backends, asked in order.

1. env vars ``UPDRAFT_CONN_<ID>`` / ``UPDRAFT_VAR_<KEY>`` (``AIRFLOW_`` forms too);
2. the configured backends (``[secrets] backend``), e.g. local files; users add Vault, AWS... by
   subclassing :class:`SecretsBackend`;
3. the metadata DB, installed by the runtime (``updraft.core``) with :func:`install_backends`.

Hooks and operators call :func:`get_connection` / :func:`get_variable`; the SDK never imports the DB.
"""

from __future__ import annotations

import os
import threading

from updraft.sdk.connection import Connection, ConnectionNotFound
from updraft.sdk.masking import mask_connection, mask_sensitive_values

__all__ = [
    "EnvironmentVariablesBackend",
    "SecretsBackend",
    "VariableNotFound",
    "backends",
    "get_connection",
    "get_variable",
    "install_backends",
]


class VariableNotFound(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class SecretsBackend:
    """Subclass and override either lookup; None means "not here, ask the next backend"."""

    def get_connection(self, conn_id: str) -> Connection | None:
        return None

    def get_variable(self, key: str) -> str | None:
        return None


class EnvironmentVariablesBackend(SecretsBackend):
    def get_connection(self, conn_id: str) -> Connection | None:
        for prefix in ("UPDRAFT_CONN_", "AIRFLOW_CONN_"):
            value = os.environ.get(prefix + conn_id.upper())
            if value is not None:
                return Connection.parse(conn_id, value)
        return None

    def get_variable(self, key: str) -> str | None:
        for prefix in ("UPDRAFT_VAR_", "AIRFLOW_VAR_"):
            value = os.environ.get(prefix + key.upper())
            if value is not None:
                return value
        return None


_lock = threading.Lock()
_backends: list[SecretsBackend] = [EnvironmentVariablesBackend()]


def install_backends(chain: list[SecretsBackend]) -> None:
    """Replace the chain (the runtime calls this: env vars, configured backends, then the DB)."""
    global _backends
    with _lock:
        _backends = list(chain)


def backends() -> list[SecretsBackend]:
    return list(_backends)


def get_connection(conn_id: str) -> Connection:
    """The connection from the first backend that has it; ConnectionNotFound names the places looked."""
    for backend in _backends:
        found = backend.get_connection(conn_id)
        if found is not None:
            mask_connection(found.password, found.extra_dejson)  # hidden from the task's log from now on
            return found
    where = ", ".join(type(b).__name__ for b in _backends)
    raise ConnectionNotFound(
        f"connection {conn_id!r} is not defined (looked in: {where}); add it with "
        f"`updraft connections add {conn_id} --conn-uri ...` or set UPDRAFT_CONN_{conn_id.upper()}"
    )


def get_variable(key: str) -> str | None:
    """The variable's raw text from the first backend that has it, else None."""
    for backend in _backends:
        found = backend.get_variable(key)
        if found is not None:
            mask_sensitive_values(found, key)  # a variable named like a secret is hidden from logs
            return found
    return None
