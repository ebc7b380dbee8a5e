"""``LocalFilesystemBackend``: connections and variables read from local files.

Set ``[secrets] backend = updraft.providers.secrets.local_filesystem.LocalFilesystemBackend`` and
``backend_kwargs = {"connections_file_path": "/path/conns.json", "variables_file_path": "/path/vars.env"}``.

Formats, chosen by the file's extension:

- ``.json``: an object ``{"id": value}``; ``.yaml`` / ``.yml`` the same in YAML (needs PyYAML);
- ``.env``: ``ID=value`` lines; blank lines and lines starting with ``#`` are skipped.

A connection's value is a URI (``postgresql://user:pw@host/db``) or an object / JSON text with
``conn_type``, ``host``... fields. A variable's value is its text (other JSON values are stored as
JSON). A malformed file raises :class:`LocalFileError` naming the file and the line or key at fault,
never a password. Files are read on every lookup, so edits are seen without a restart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from updraft.sdk.connection import Connection, InvalidConnection
from updraft.sdk.secrets import SecretsBackend

__all__ = [
    "LocalFileError",
    "LocalFilesystemBackend",
    "load_connections",
    "load_variables",
    "read_secrets_file",
]


class LocalFileError(ValueError):
    """A connections or variables file that cannot be read."""


def _parse_env(path: Path, text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise LocalFileError(f"{path}, line {number}: expected KEY=VALUE")
        if key in found:
            raise LocalFileError(f"{path}, line {number}: {key!r} is defined twice")
        found[key] = value.strip()
    return found


def read_secrets_file(path: str | Path) -> dict[str, Any]:
    """The ``{key: value}`` mapping of a .json, .yaml/.yml or .env file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml", ".env"):
        raise LocalFileError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; use .json, .yaml, .yml or .env"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LocalFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if suffix == ".env":
        return _parse_env(path, text)
    if suffix == ".json":
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise LocalFileError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    else:
        try:
            import yaml  # optional dependency, needed for YAML files only
        except ImportError:
            raise LocalFileError(f"{path}: reading YAML files needs PyYAML (pip install pyyaml)") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1}" if mark is not None else ""
            raise LocalFileError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise LocalFileError(f"{path}: the top level must be a mapping of ids to values")
    return {str(key): value for key, value in data.items()}


def load_connections(path: str | Path) -> dict[str, Connection]:
    """Every connection of a file, by id."""
    found: dict[str, Connection] = {}
    for conn_id, value in read_secrets_file(path).items():
        try:
            if isinstance(value, dict):
                found[conn_id] = Connection.from_json(conn_id, value)
            elif isinstance(value, str):
                found[conn_id] = Connection.parse(conn_id, value)
            else:
                raise InvalidConnection(f"connection {conn_id!r}: expected a URI or an object")
        except InvalidConnection as exc:
            raise LocalFileError(f"{path}, key {conn_id!r}: {exc}") from None
    return found


def load_variables(path: str | Path) -> dict[str, str]:
    """Every variable of a file, by key, as text."""
    return {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in read_secrets_file(path).items()
    }


class LocalFilesystemBackend(SecretsBackend):
    """Connections and variables from local files (either path may be left out)."""

    def __init__(
        self, connections_file_path: str | None = None, variables_file_path: str | None = None
    ) -> None:
        self.connections_file_path = connections_file_path
        self.variables_file_path = variables_file_path

    def get_connection(self, conn_id: str) -> Connection | None:
        if not self.connections_file_path:
            return None
        return load_connections(self.connections_file_path).get(conn_id)

    def get_variable(self, key: str) -> str | None:
        if not self.variables_file_path:
            return None
        return load_variables(self.variables_file_path).get(key)
