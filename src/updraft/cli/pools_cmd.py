"""``updraft pools ...``: list, show, create or update, delete, import and export pools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from updraft.cli.output import OUTPUT_OPTION, fail, print_rows

COLUMNS = ["pool", "slots", "description", "include_deferred"]


@click.group(name="pools")
def command() -> None:
    """Manage pools: named numbers of slots that running tasks take."""


def _engine() -> Any:
    from updraft.core.runtime.dag_test import prepare_engine

    return prepare_engine()


def _rows(pools: list[Any]) -> list[dict[str, Any]]:
    return [p.as_row() for p in pools]


@command.command(name="list")
@OUTPUT_OPTION
def list_command(output: str) -> None:
    """List every pool."""
    from updraft.core.pools import list_pools

    with _engine().connect() as conn:
        pools = list_pools(conn)
    print_rows(_rows(pools), COLUMNS, output)


@command.command(name="get")
@click.argument("name")
@OUTPUT_OPTION
def get_command(name: str, output: str) -> None:
    """Show one pool."""
    from updraft.core.pools import get_pool

    with _engine().connect() as conn:
        pool = get_pool(conn, name)
    if pool is None:
        fail(f"pool {name!r} does not exist (see `updraft pools list`)", code=2)
        return
    print_rows(_rows([pool]), COLUMNS, output)


@command.command(name="set", context_settings={"ignore_unknown_options": True})  # SLOTS may be -1
@click.argument("name")
@click.argument("slots")
@click.argument("description")
@click.option("--include-deferred", is_flag=True, help="Deferred tasks also take slots of this pool.")
@OUTPUT_OPTION
def set_command(name: str, slots: str, description: str, include_deferred: bool, output: str) -> None:
    """Create the pool NAME with SLOTS slots (-1: unlimited), or update it."""
    from updraft.core.pools import PoolError, set_pool

    try:
        with _engine().begin() as conn:
            pool, created = set_pool(conn, name, slots, description, include_deferred)
    except PoolError as exc:
        fail(str(exc), code=2)
        return
    if output == "table":
        click.echo(f"Pool {name} {'created' if created else 'updated'}")
    else:
        print_rows(_rows([pool]), COLUMNS, output)


@command.command(name="delete")
@click.argument("name")
@OUTPUT_OPTION
def delete_command(name: str, output: str) -> None:
    """Delete a pool (default_pool cannot be deleted)."""
    from updraft.core.pools import PoolError, delete_pool, unfinished_tis_in_pool

    try:
        with _engine().begin() as conn:
            pool = delete_pool(conn, name)
            waiting = unfinished_tis_in_pool(conn, name)
    except PoolError as exc:
        fail(str(exc), code=2)
        return
    if output == "table":
        click.echo(f"Pool {name} deleted")
    else:
        print_rows(_rows([pool]), COLUMNS, output)
    if waiting:
        click.echo(
            f"Warning: {waiting} task instance(s) not finished use pool {name!r}; "
            "they will not run until it exists again",
            err=True,
        )


@command.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Create or update the pools of a JSON file ({"name": {"slots": 4, "description": "..."}})."""
    from updraft.core.pools import PoolError, import_pools, parse_pools_json

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read pools file {file}: {exc.strerror or exc}", code=2)
        return
    try:
        pools = parse_pools_json(text, source=str(file))
        with _engine().begin() as conn:
            count = import_pools(conn, pools)
    except PoolError as exc:
        fail(str(exc), code=2)
        return
    click.echo(f"Uploaded {count} pool(s)")


@command.command(name="export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(file: Path) -> None:
    """Write every pool to a JSON file that `pools import` reads."""
    from updraft.core.pools import export_pools

    with _engine().connect() as conn:
        pools = export_pools(conn)
    try:
        file.write_text(json.dumps(pools, sort_keys=True, indent=4) + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write pools file {file}: {exc.strerror or exc}", code=1)
        return
    click.echo(f"Exported {len(pools)} pool(s) to {file}")
