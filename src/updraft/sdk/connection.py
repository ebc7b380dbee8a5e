"""``Connection``: how to reach an outside system (type, host, port, login, password, schema, extra).

Pure data with Airflow's URI and JSON forms: ``postgresql://user:pa%40ss@host:5432/db?sslmode=require``
parses into fields (query parameters become ``extra``), and ``get_uri()`` gives it back. Lookup by
id goes through ``updraft.sdk.secrets`` (env vars, secrets backends, then the metadata DB).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from updraft.sdk.exceptions import UpdraftException, UpdraftNotFound

__all__ = ["Connection", "ConnectionNotFound", "InvalidConnection"]


class ConnectionNotFound(UpdraftNotFound):
    """No source defines this connection id (a ``KeyError``, and Airflow's ``AirflowNotFoundException``)."""


class InvalidConnection(UpdraftException, ValueError):
    """A connection URI or JSON that cannot be read; the message names the connection, never its password."""


def _host_of(netloc: str) -> str | None:
    """The host as written (``urlsplit().hostname`` lowercases it, which breaks SQLite paths)."""
    host = netloc.rpartition("@")[2]
    if host.startswith("["):  # [ipv6]:port
        host = host[1 : host.find("]")]
    elif ":" in host:
        host = host.rpartition(":")[0]
    return unquote(host) or None


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
        """``extra`` as a dict ({} when empty or not a JSON object)."""
        if not self.extra:
            return {}
        try:
            value = json.loads(self.extra)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    @classmethod
    def get(cls, conn_id: str) -> Connection:
        """The connection ``conn_id`` from the secrets chain (env vars, backend, metadata DB).

        Raises ConnectionNotFound (Airflow's ``AirflowNotFoundException``) when no source has it.
        """
        from updraft.sdk import secrets

        return secrets.get_connection(conn_id)

    @classmethod
    def from_uri(cls, conn_id: str, uri: str) -> Connection:
        """Parse ``type://login:password@host:port/schema?extra=...`` (parts percent-encoded);
        a single ``__extra__`` query parameter holds the whole extra as JSON."""
        try:
            parts = urlsplit(uri.strip())
            port = parts.port
        except ValueError as exc:
            raise InvalidConnection(f"connection {conn_id!r}: not a valid URI ({exc})") from None
        if not parts.scheme or "://" not in uri:
            raise InvalidConnection(
                f"connection {conn_id!r}: not a URI (expected type://login:password@host:port/schema)"
            )
        query = parse_qsl(parts.query, keep_blank_values=True)
        extra: str | None
        if len(query) == 1 and query[0][0] == "__extra__":
            extra = query[0][1]
        else:
            extra = json.dumps(dict(query)) if query else None
        return cls(
            conn_id=conn_id,
            conn_type=parts.scheme.replace("-", "_"),
            host=_host_of(parts.netloc),
            schema=unquote(parts.path.lstrip("/")) or None,
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            port=port,
            extra=extra,
        )

    @classmethod
    def from_json(cls, conn_id: str, text: str | dict[str, Any]) -> Connection:
        """Airflow's JSON form: ``{"conn_type": ..., "host": ..., "extra": {...}}``."""
        try:
            data = json.loads(text) if isinstance(text, str) else dict(text)
        except json.JSONDecodeError as exc:
            raise InvalidConnection(f"connection {conn_id!r}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InvalidConnection(f"connection {conn_id!r}: the JSON form must be an object")
        unknown = sorted(set(data) - {"conn_type", "host", "schema", "login", "password", "port", "extra",
                                      "description", "conn_id"})  # fmt: skip
        if unknown:
            raise InvalidConnection(f"connection {conn_id!r}: unknown field(s) {', '.join(unknown)}")
        extra = data.get("extra")
        port = data.get("port")
        try:
            port = int(port) if port not in (None, "") else None
        except (TypeError, ValueError):
            raise InvalidConnection(f"connection {conn_id!r}: port {port!r} is not a number") from None
        return cls(
            conn_id=conn_id,
            conn_type=data.get("conn_type"),
            host=data.get("host"),
            schema=data.get("schema"),
            login=data.get("login"),
            password=data.get("password"),
            port=port,
            extra=json.dumps(extra) if isinstance(extra, dict) else extra,
            description=data.get("description"),
        )

    @classmethod
    def parse(cls, conn_id: str, text: str) -> Connection:
        """A URI or, when it starts with ``{``, the JSON form (as env vars and backends hold them)."""
        stripped = text.strip()
        return (
            cls.from_json(conn_id, stripped) if stripped.startswith("{") else cls.from_uri(conn_id, stripped)
        )

    def get_uri(self) -> str:
        """The URI form; ``extra`` becomes query parameters (or ``__extra__`` when not flat strings)."""
        auth = ""
        if self.login or self.password:
            auth = quote(self.login or "", safe="")
            if self.password:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = quote(self.host or "", safe="")
        port = f":{self.port}" if self.port else ""
        schema = f"/{quote(self.schema, safe='')}" if self.schema else ""
        query = ""
        extra = self.extra_dejson
        if extra:
            flat = all(isinstance(v, str) for v in extra.values())
            query = "?" + (urlencode(extra) if flat else urlencode({"__extra__": json.dumps(extra)}))
        return f"{(self.conn_type or '').replace('_', '-')}://{auth}{host}{port}{schema}{query}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "conn_type": self.conn_type,
            "host": self.host,
            "schema": self.schema,
            "login": self.login,
            "password": self.password,
            "port": self.port,
            "extra": self.extra_dejson or self.extra,
            "description": self.description,
        }

    def __repr__(self) -> str:  # never the password
        return f"Connection({self.conn_id!r}, type={self.conn_type!r}, host={self.host!r})"
