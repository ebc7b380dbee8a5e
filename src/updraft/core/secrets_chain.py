"""The runtime's secrets chain: env vars, then the metadata DB (``MetastoreBackend``).

:func:`install_secrets_chain` puts it in ``updraft.sdk.secrets``; every runtime entry point does so
through ``install_runtime_services``. Hooks then find connections without importing the DB.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from updraft.core.db.engine import get_engine
from updraft.core.db.models import Connection as ConnectionRow
from updraft.core.db.models import Variable
from updraft.sdk import secrets
from updraft.sdk.connection import Connection

__all__ = ["MetastoreBackend", "install_secrets_chain"]


class MetastoreBackend(secrets.SecretsBackend):
    """Connections and variables stored in the metadata DB (by the CLI, API and UI)."""

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
        return Connection(
            conn_id=row.conn_id,
            conn_type=row.conn_type,
            host=row.host,
            schema=row.schema,
            login=row.login,
            password=row.password,
            port=row.port,
            extra=row.extra,
            description=row.description,
        )

    def get_variable(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.scalar(select(Variable.val).where(Variable.key == key))
        return value


def install_secrets_chain(engine: Engine | None = None) -> None:
    secrets.install_backends([secrets.EnvironmentVariablesBackend(), MetastoreBackend(engine)])


def ensure_secrets_chain() -> None:
    """Install the chain unless a metastore backend is already in it."""
    if not any(isinstance(b, MetastoreBackend) for b in secrets.backends()):
        install_secrets_chain()
