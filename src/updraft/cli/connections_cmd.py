"""``updraft connections ...``: add, get, list, delete, export, import and test connections.

Passwords are stored encrypted and never printed; ``export`` writes them (to a file of mode 600),
since its file is meant for ``import`` elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from updraft.cli.output import OUTPUT_OPTION, fail, print_rows

COLUMNS = ["conn_id", "conn_type", "description", "host", "schema", "login", "port", "extra"]
_FIELDS = ("conn_type", "description", "host", "schema", "login", "password", "port", "extra")


@click.group(name="connections")
def command() -> None:
    """Manage connections: how tasks reach outside systems."""


def _engine() -> Any:
    from updraft.core.runtime.dag_test import prepare_engine

    return prepare_engine()


def _fields(connection: Any) -> dict[str, Any]:
    return {name: getattr(connection, name) for name in _FIELDS}


def _row(stored: Any) -> dict[str, Any]:
    return {name: getattr(stored, name) for name in COLUMNS}


def _stored_connections(conn_id: str | None = None) -> list[Any]:
    from updraft.core import config_objects as objects
    from updraft.core.fernet import FernetKeyMismatch

    try:
        with _engine().connect() as conn:
            if conn_id is None:
                return objects.list_connections(conn)
            stored = objects.get_connection_row(conn, conn_id)
    except FernetKeyMismatch as exc:
        fail(str(exc))
        return []
    if stored is None:
        fail(f"connection {conn_id!r} does not exist (see `updraft connections list`)", code=2)
    return [stored]


@command.command(name="add")
@click.argument("conn_id")
@click.option(
    "--conn-uri", default=None, help="The connection as a URI: type://login:password@host:port/schema."
)
@click.option("--conn-json", default=None, help='The connection as JSON: {"conn_type": ..., "host": ...}.')
@click.option("--conn-type", default=None, help="Type of the connection (postgres, http, sqlite...).")
@click.option("--conn-host", default=None)
@click.option("--conn-login", default=None)
@click.option("--conn-password", default=None)
@click.option("--conn-schema", default=None)
@click.option("--conn-port", default=None, type=int)
@click.option("--conn-extra", default=None, help="Extra settings as a JSON object.")
@click.option("--conn-description", default=None)
def add_command(conn_id: str, conn_uri: str | None, conn_json: str | None, **parts: Any) -> None:
    """Add the connection CONN_ID, from a URI, from JSON, or from --conn-* options."""
    from updraft.core import config_objects as objects
    from updraft.sdk.connection import Connection, InvalidConnection

    given = {name.removeprefix("conn_"): value for name, value in parts.items() if value is not None}
    if conn_uri is not None and conn_json is not None:
        fail(f"connection {conn_id!r}: give --conn-uri or --conn-json, not both", code=2)
    if (conn_uri is not None or conn_json is not None) and set(given) - {"description"}:
        fail(
            f"connection {conn_id!r}: --conn-uri and --conn-json cannot be combined with the other --conn-* options",
            code=2,
        )
    try:
        if conn_uri is not None:
            connection = Connection.from_uri(conn_id, conn_uri)
        elif conn_json is not None:
            connection = Connection.from_json(conn_id, conn_json)
        else:
            if not given.get("type"):
                fail(f"connection {conn_id!r}: give --conn-uri, --conn-json or at least --conn-type", code=2)
            connection = Connection(conn_id=conn_id, conn_type=given.pop("type"), **given)
    except InvalidConnection as exc:
        fail(str(exc), code=2)
        return
    if given.get("description"):
        connection.description = given["description"]
    if connection.extra:
        try:
            json.loads(connection.extra)
        except json.JSONDecodeError as exc:
            fail(f"connection {conn_id!r}: --conn-extra is not valid JSON ({exc.msg})", code=2)
    try:
        with _engine().begin() as conn:
            objects.create_connection(conn, conn_id, _fields(connection))
    except objects.ObjectExists:
        fail(f"connection {conn_id!r} already exists (delete it first, or import with --overwrite)", code=2)
    except ValueError as exc:
        fail(str(exc), code=2)
    click.echo(f"Successfully added conn_id={conn_id} ({connection.conn_type})")


def _source_of(backend: Any, conn_id: str) -> str:
    """Where a connection was found, in words."""
    from updraft.core.secrets_chain import MetastoreBackend
    from updraft.sdk.secrets import EnvironmentVariablesBackend

    if isinstance(backend, EnvironmentVariablesBackend):
        names = [f"{prefix}{conn_id.upper()}" for prefix in ("UPDRAFT_CONN_", "AIRFLOW_CONN_")]
        return f"environment variable {next((n for n in names if n in os.environ), names[0])}"
    if isinstance(backend, MetastoreBackend):
        return "metadata database"
    return f"secrets backend {type(backend).__module__}.{type(backend).__name__}"


def resolve_connection(conn_id: str) -> tuple[Any, str]:
    """The connection as tasks see it, through the whole secrets chain (env vars, ``[secrets]
    backend``, then the metadata DB), and where it was found; fails (exit 2) when nowhere."""
    from updraft.core.fernet import FernetKeyMismatch
    from updraft.core.secrets_chain import SecretsBackendConfigError, install_secrets_chain
    from updraft.sdk import secrets
    from updraft.sdk.connection import InvalidConnection

    engine = _engine()
    try:
        install_secrets_chain(engine)
        chain = secrets.backends()
        for backend in chain:
            found = backend.get_connection(conn_id)
            if found is not None:
                return found, _source_of(backend, conn_id)
    except (FernetKeyMismatch, SecretsBackendConfigError) as exc:
        fail(str(exc))
    except InvalidConnection as exc:
        fail(f"connection {conn_id!r}: {exc}", code=2)
    where = ", ".join(type(b).__name__ for b in chain)
    fail(
        f"connection {conn_id!r} is not defined (looked in: {where}); add it with "
        f"`updraft connections add {conn_id} --conn-uri ...` or set UPDRAFT_CONN_{conn_id.upper()}",
        code=2,
    )
    raise AssertionError("unreachable")


@command.command(name="get")
@click.argument("conn_id")
@OUTPUT_OPTION
def get_command(conn_id: str, output: str) -> None:
    """Show the connection CONN_ID as tasks see it (never its password).

    It is looked up as hooks do: UPDRAFT_CONN_<ID> env vars, the [secrets] backend, then the
    metadata DB. With the table output, where it was found is printed on stderr.
    """
    connection, source = resolve_connection(conn_id)
    row = {name: getattr(connection, name, None) for name in COLUMNS}
    row["conn_id"] = conn_id
    print_rows([row], COLUMNS, output)
    if output == "table":
        click.echo(f"(from the {source})", err=True)


@command.command(name="list")
@OUTPUT_OPTION
def list_command(output: str) -> None:
    """List the stored connections (never their passwords)."""
    print_rows([_row(s) for s in _stored_connections()], COLUMNS, output)


@command.command(name="delete")
@click.argument("conn_id")
def delete_command(conn_id: str) -> None:
    """Delete a stored connection."""
    from updraft.core import config_objects as objects

    try:
        with _engine().begin() as conn:
            objects.delete_connection(conn, conn_id)
    except objects.ObjectNotFound:
        fail(f"connection {conn_id!r} does not exist (see `updraft connections list`)", code=2)
    click.echo(f"Successfully deleted connection with conn_id={conn_id}")


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (mode 600, also when it existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def dump_mapping(path: Path, data: dict[str, Any], env_value: Any) -> str:
    """``data`` as the text of a .json, .yaml/.yml or .env file (``env_value`` formats .env values)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if suffix in (".yaml", ".yml"):
        try:
            import yaml  # optional dependency, needed for YAML files only
        except ImportError:
            fail(f"{path}: writing YAML needs PyYAML (pip install pyyaml)", code=2)
        return str(yaml.safe_dump(data, sort_keys=True))
    if suffix == ".env":
        return "".join(f"{key}={env_value(value)}\n" for key, value in sorted(data.items()))
    fail(f"{path}: unsupported file type {suffix or '(none)'!r}; use .json, .yaml, .yml or .env", code=2)
    return ""


@command.command(name="export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(file: Path) -> None:
    """Write every stored connection, passwords included, to FILE (.json, .yaml or .env; mode 600)."""
    from updraft.sdk.connection import Connection

    data: dict[str, Any] = {}
    for stored in _stored_connections():
        connection = Connection(conn_id=stored.conn_id, **_fields(stored))
        data[stored.conn_id] = {k: v for k, v in connection.to_dict().items() if v is not None}
    text = dump_mapping(file, data, lambda value: Connection.from_json("export", value).get_uri())
    try:
        write_private_file(file, text)
    except OSError as exc:
        fail(f"cannot write connections file {file}: {exc.strerror or exc}")
    click.echo(f"Exported {len(data)} connection(s) to {file}")


@command.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--overwrite", is_flag=True, help="Replace connections that already exist (else they are skipped)."
)
def import_command(file: Path, overwrite: bool) -> None:
    """Add the connections of FILE (.json, .yaml or .env, as `connections export` writes)."""
    from updraft.core import config_objects as objects
    from updraft.core.fernet import FernetKeyMismatch
    from updraft.providers.secrets.local_filesystem import LocalFileError, load_connections

    try:
        connections = load_connections(file)
    except LocalFileError as exc:
        fail(str(exc), code=2)
        return
    added = skipped = 0
    try:
        with _engine().begin() as conn:
            for conn_id, connection in connections.items():
                if objects.get_connection_row(conn, conn_id) is None:
                    objects.create_connection(conn, conn_id, _fields(connection))
                elif overwrite:
                    objects.update_connection(conn, conn_id, _fields(connection))
                else:
                    click.echo(
                        f"Skipped connection {conn_id!r}: it already exists (use --overwrite)", err=True
                    )
                    skipped += 1
                    continue
                added += 1
    except (ValueError, FernetKeyMismatch) as exc:
        fail(f"{file}: {exc}; nothing was imported", code=2)
    click.echo(f"Imported {added} connection(s) from {file}" + (f", skipped {skipped}" if skipped else ""))


@command.command(name="test")
@click.argument("conn_id")
def test_command(conn_id: str) -> None:
    """Test the connection CONN_ID with the hook of its type; exit 0 when it works, else 1."""
    from updraft.core.connections import ConnectionNotFound, get_connection
    from updraft.core.fernet import FernetKeyMismatch
    from updraft.providers import registry

    _engine()
    try:
        connection = get_connection(conn_id)
        hook = registry.hook_class(connection.conn_type)
    except (ConnectionNotFound, FernetKeyMismatch, registry.HookNotFound) as exc:
        fail(str(exc))
        return
    ok, message = registry.test_connection(conn_id)
    click.echo(f"Connection {conn_id!r} ({hook.__name__}): {'success' if ok else 'failed'}: {message}")
    raise SystemExit(0 if ok else 1)
