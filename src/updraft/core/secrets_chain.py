"""The runtime's secrets chain: env vars, then ``[secrets] backend`` when set, then the metadata DB.

:func:`install_secrets_chain` puts it in ``updraft.sdk.secrets``; every runtime entry point does so
through ``install_runtime_services``. Hooks then find connections without importing the DB.
``[secrets] backend`` is a dotted class path (e.g.
``updraft.providers.secrets.local_filesystem.LocalFilesystemBackend``) built with the keyword
arguments in ``[secrets] backend_kwargs`` (a JSON object).
"""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

from sqlalchemy import Engine, select

from updraft.core import config_objects
from updraft.core.config import conf
from updraft.core.db.engine import get_engine
from updraft.core.db.models import Connection as ConnectionRow
from updraft.core.db.models import Variable
from updraft.sdk import secrets
from updraft.sdk.connection import Connection
from updraft.sdk.exceptions import UpdraftException

__all__ = ["MetastoreBackend", "SecretsBackendConfigError", "configured_backend", "install_secrets_chain"]


class SecretsBackendConfigError(UpdraftException):
    """``[secrets] backend`` or ``backend_kwargs`` cannot be used."""


class MetastoreBackend(secrets.SecretsBackend):
    """Connections and variables stored in the metadata DB (by the CLI, API and UI), decrypted."""

    def __init__(self, engine: Engine | None = None) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine if self._engine is not None else get_engine()

    def get_connection(self, conn_id: str) -> Connection | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(ConnectionRow.__table__).where(ConnectionRow.conn_id == conn_id)
            ).first()
        if row is None:
            return None
        stored = config_objects.connection_from_row(row)
        return Connection(
            conn_id=stored.conn_id,
            conn_type=stored.conn_type,
            host=stored.host,
            schema=stored.schema,
            login=stored.login,
            password=stored.password,
            port=stored.port,
            extra=stored.extra,
            description=stored.description,
        )

    def get_variable(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(Variable.__table__).where(Variable.key == key)).first()
        return None if row is None else config_objects.variable_from_row(row).val

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        """Create or replace the variable (encrypted), in its own transaction."""
        with self.engine.begin() as conn:
            config_objects.set_variable(conn, key, value, description)


def configured_backend() -> secrets.SecretsBackend | None:
    """The backend named by ``[secrets] backend``, or None when the option is empty."""
    path = conf.get("secrets", "backend", fallback="").strip()
    if not path:
        return None
    module_name, _, class_name = path.rpartition(".")
    try:
        cls: Any = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SecretsBackendConfigError(f"secrets.backend: cannot import {path!r} ({exc})") from None
    text = conf.get("secrets", "backend_kwargs", fallback="").strip()
    try:
        kwargs = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise SecretsBackendConfigError(f"secrets.backend_kwargs: not valid JSON ({exc.msg})") from None
    if not isinstance(kwargs, dict):
        raise SecretsBackendConfigError("secrets.backend_kwargs: must be a JSON object")
    try:
        backend = cls(**kwargs)
    except TypeError as exc:
        raise SecretsBackendConfigError(
            f"secrets.backend_kwargs: {path} does not accept them ({exc})"
        ) from None
    if not isinstance(backend, secrets.SecretsBackend):
        raise SecretsBackendConfigError(f"secrets.backend: {path} is not a SecretsBackend subclass")
    return backend


def export_file_settings(section: str = "smtp") -> None:
    """Put ``[section]`` options set in updraft.cfg into this process's environment, where the
    providers layer (which cannot import the configuration) reads them; task processes inherit it."""
    for key, value in conf.file_section(section).items():
        names = [f"{prefix}__{section.upper()}__{key.upper()}" for prefix in ("UPDRAFT", "AIRFLOW")]
        if not any(name in os.environ for name in names):  # an env var wins over the file
            os.environ[names[0]] = value


def install_secrets_chain(engine: Engine | None = None) -> None:
    chain: list[secrets.SecretsBackend] = [secrets.EnvironmentVariablesBackend()]
    backend = configured_backend()
    if backend is not None:
        chain.append(backend)
    chain.append(MetastoreBackend(engine))
    secrets.install_backends(chain)


def ensure_secrets_chain() -> None:
    """Install the chain unless a metastore backend is already in it."""
    if not any(isinstance(b, MetastoreBackend) for b in secrets.backends()):
        install_secrets_chain()
