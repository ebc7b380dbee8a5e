"""``updraft version``."""

import click

import updraft


@click.command(name="version")
def command() -> None:
    """Show the version of updraft."""
    click.echo(updraft.__version__)
