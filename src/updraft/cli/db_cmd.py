"""``updraft db migrate`` and ``updraft db reset``."""

from __future__ import annotations

import click


@click.group(name="db")
def command() -> None:
    """Manage the metadata database."""


@command.command(name="migrate")
def migrate() -> None:
    """Create or upgrade the metadata database schema."""
    from updraft.core.db.engine import get_engine
    from updraft.core.db.migrate import HEAD_REVISION
    from updraft.core.db.migrate import migrate as run_migrations

    engine = get_engine()
    run_migrations(engine)
    click.echo(f"Database {engine.url.render_as_string(hide_password=True)} is at revision {HEAD_REVISION}")


@command.command(name="reset")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(yes: bool) -> None:
    """Drop every table and recreate the schema (all history is lost)."""
    from updraft.core.db.engine import get_engine
    from updraft.core.db.migrate import reset as reset_db

    engine = get_engine()
    where = engine.url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"This deletes all data in {where}. Continue?", abort=True)
    reset_db(engine)
    click.echo(f"Database {where} was reset")
