"""``updraft config list`` and ``updraft config get-value SECTION KEY``."""

from __future__ import annotations

import click

from updraft.cli.output import fail


@click.group(name="config")
def command() -> None:
    """Show configuration (updraft.cfg, UPDRAFT__SECTION__KEY env vars, defaults)."""


@command.command(name="list")
@click.option("--section", help="Only this section.")
@click.option("--show-sources", is_flag=True, help="Say where each value comes from.")
@click.option("--include-sensitive", is_flag=True, help="Show secret values instead of hiding them.")
def list_config(section: str | None, show_sources: bool, include_sensitive: bool) -> None:
    """Print every option, as an updraft.cfg file."""
    from updraft.core.config import conf

    data = conf.as_dict(display_source=True, display_sensitive=include_sensitive)
    if section is not None and section.lower() not in data:
        fail(f"no configuration section [{section}]; sections: {', '.join(sorted(data))}")
    for name, options in data.items():
        if section is not None and name != section.lower():
            continue
        click.echo(f"[{name}]")
        for key, entry in options.items():
            value, source = entry if isinstance(entry, tuple) else (entry, "")
            suffix = f"  # source: {source}" if show_sources and source else ""
            click.echo(f"{key} = {value}{suffix}")
        click.echo("")


@command.command(name="get-value")
@click.argument("section")
@click.argument("key")
def get_value(section: str, key: str) -> None:
    """Print the value of one option."""
    from updraft.core.config import UpdraftConfigError, conf

    try:
        click.echo(conf.get(section, key))
    except UpdraftConfigError as exc:
        fail(str(exc).strip("'\""))
