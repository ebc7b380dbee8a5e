"""Connections as the runtime reads them: ``UPDRAFT_CONN_<ID>`` env vars (URI or JSON), then the DB."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from sqlalchemy import select

from updraft.core.db.engine import create_session
from updraft.core.db.models import Connection as ConnectionRow


class ConnectionNotFound(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class Connection:
    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: str | None = None
    description: str | None = None

    @property
    def extra_dejson(self) -> dict[str, Any]:
        if not self.extra:
            return {}
        try:
            value = json.loads(self.extra)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    @classmethod
    def from_uri(cls, conn_id: str, uri: str) -> Connection:
        parts = urlsplit(uri)
        if not parts.scheme:
            raise ValueError(f"connection {conn_id!r}: {uri!r} is not a URI (expected type://host...)")
        extra = dict(parse_qsl(parts.query, keep_blank_values=True))
        return cls(
            conn_id=conn_id,
            conn_type=parts.scheme.replace("-", "_"),
            host=unquote(parts.hostname) if parts.hostname else None,
            schema=unquote(parts.path.lstrip("/")) or None,
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            port=parts.port,
            extra=json.dumps(extra) if extra else None,
        )

    @classmethod
    def from_json(cls, conn_id: str, text: str) -> Connection:
        data = json.loads(text)
        extra = data.get("extra")
        return cls(
            conn_id=conn_id,
            conn_type=data.get("conn_type"),
            host=data.get("host"),
            schema=data.get("schema"),
            login=data.get("login"),
            password=data.get("password"),
            port=int(data["port"]) if data.get("port") is not None else None,
            extra=json.dumps(extra) if isinstance(extra, dict) else extra,
            description=data.get("description"),
        )

    def get_uri(self) -> str:
        auth = ""
        if self.login or self.password:
            auth = quote(self.login or "", safe="")
            if self.password:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = self.host or ""
        port = f":{self.port}" if self.port else ""
        schema = f"/{quote(self.schema, safe='')}" if self.schema else ""
        return f"{(self.conn_type or '').replace('_', '-')}://{auth}{host}{port}{schema}"

    def __repr__(self) -> str:
        return f"Connection({self.conn_id!r}, type={self.conn_type!r}, host={self.host!r})"


def get_connection(conn_id: str) -> Connection:
    for prefix in ("UPDRAFT_CONN_", "AIRFLOW_CONN_"):
        value = os.environ.get(prefix + conn_id.upper())
        if value is not None:
            stripped = value.strip()
            if stripped.startswith("{"):
                return Connection.from_json(conn_id, stripped)
            return Connection.from_uri(conn_id, stripped)
    with create_session() as session:
        row = session.scalar(select(ConnectionRow).where(ConnectionRow.conn_id == conn_id))
        if row is None:
            raise ConnectionNotFound(f"connection {conn_id!r} is not defined")
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
