"""``updraft variables ...``: set, get, list, delete, export and import variables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from updraft.cli.connections_cmd import dump_mapping, write_private_file
from updraft.cli.output import OUTPUT_OPTION, fail, print_rows

COLUMNS = ["key", "description"]


@click.group(name="variables")
def command() -> None:
    """Manage variables: settings DAGs read with Variable.get."""


def _engine() -> Any:
    from updraft.core.runtime.dag_test import prepare_engine

    return prepare_engine()


@command.command(name="set")
@click.argument("key")
@click.argument("value")
@click.option("--description", default=None, help="What the variable is for.")
@click.option("-j", "--serialize-json", is_flag=True, help="VALUE is JSON: check it and store it as JSON.")
def set_command(key: str, value: str, description: str | None, serialize_json: bool) -> None:
    """Create the variable KEY or replace its value."""
    from updraft.core import config_objects as objects

    if serialize_json:
        try:
            value = json.dumps(json.loads(value), indent=2)
        except json.JSONDecodeError as exc:
            fail(f"variable {key!r}: VALUE is not valid JSON ({exc.msg})", code=2)
    try:
        with _engine().begin() as conn:
            objects.set_variable(conn, key, value, description)
    except ValueError as exc:
        fail(str(exc), code=2)
    click.echo(f"Variable {key} set")


@command.command(name="get")
@click.argument("key")
@click.option("-d", "--default", default=None, help="Printed when the variable does not exist.")
@click.option("-j", "--deserialize-json", is_flag=True, help="Parse the value as JSON and print it as JSON.")
def get_command(key: str, default: str | None, deserialize_json: bool) -> None:
    """Print the value of KEY (from env vars, the secrets backend or the DB)."""
    from updraft.core.fernet import FernetKeyMismatch
    from updraft.core.variables import VariableNotFound, get_variable

    _engine()
    try:
        value = get_variable(key, deserialize_json=deserialize_json)
    except VariableNotFound as exc:
        if default is None:
            fail(str(exc), code=1)
        value = default
    except (ValueError, FernetKeyMismatch) as exc:
        fail(str(exc), code=1)
    click.echo(json.dumps(value, indent=2) if deserialize_json and value is not default else value)


@command.command(name="list")
@OUTPUT_OPTION
def list_command(output: str) -> None:
    """List the stored variables' keys (values are not printed)."""
    from sqlalchemy import select

    from updraft.core.db.models import Variable

    with _engine().connect() as conn:
        rows = conn.execute(select(Variable.key, Variable.description).order_by(Variable.key)).all()
    print_rows([{"key": r.key, "description": r.description} for r in rows], COLUMNS, output)


@command.command(name="delete")
@click.argument("key")
def delete_command(key: str) -> None:
    """Delete a stored variable."""
    from updraft.core import config_objects as objects

    try:
        with _engine().begin() as conn:
            objects.delete_variable(conn, key)
    except objects.ObjectNotFound:
        fail(f"variable {key!r} does not exist (see `updraft variables list`)", code=2)
    click.echo(f"Variable {key} deleted")


def _decoded(text: str | None) -> Any:
    """JSON values are exported as JSON (as Airflow does), other text as it is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@command.command(name="export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(file: Path) -> None:
    """Write every stored variable to FILE (.json, .yaml or .env; mode 600)."""
    from updraft.core import config_objects as objects
    from updraft.core.fernet import FernetKeyMismatch

    try:
        with _engine().connect() as conn:
            data = {v.key: _decoded(v.val) for v in objects.list_variables(conn)}
    except FernetKeyMismatch as exc:
        fail(str(exc))
        return
    text = dump_mapping(file, data, lambda v: v if isinstance(v, str) else json.dumps(v))
    try:
        write_private_file(file, text)
    except OSError as exc:
        fail(f"cannot write variables file {file}: {exc.strerror or exc}")
    click.echo(f"Exported {len(data)} variable(s) to {file}")


@command.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Create or replace the variables of FILE (.json, .yaml or .env, as `variables export` writes)."""
    from updraft.core import config_objects as objects
    from updraft.providers.secrets.local_filesystem import LocalFileError, load_variables

    try:
        variables = load_variables(file)
    except LocalFileError as exc:
        fail(str(exc), code=2)
        return
    try:
        with _engine().begin() as conn:
            for key, value in variables.items():
                objects.set_variable(conn, key, value)
    except ValueError as exc:
        fail(f"{file}: {exc}; nothing was imported", code=2)
    click.echo(f"Imported {len(variables)} variable(s) from {file}")
