"""Printing tables and JSON for CLI commands (``-o table|json|plain``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "json", "plain"]),
    default="table",
    show_default=True,
    help="Output format.",
)

STATE_COLOURS = {
    "success": "green",
    "failed": "red",
    "upstream_failed": "yellow",
    "skipped": "magenta",
    "up_for_retry": "yellow",
    "running": "cyan",
    "queued": "blue",
    "removed": "white",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def print_rows(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], output: str, colour_column: str | None = None
) -> None:
    """Print ``rows`` as an aligned table, JSON list of objects, or tab-separated lines."""
    if output == "json":
        click.echo(
            json.dumps([{c: row.get(c) for c in columns} for row in rows], default=_json_default, indent=2)
        )
        return
    if output == "plain":
        for row in rows:
            click.echo("\t".join(_text(row.get(c)) for c in columns))
        return
    if not rows:
        click.echo("No data found")
        return
    cells = [[_text(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    colour = sys.stdout.isatty()
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    click.echo("  ".join("-" * w for w in widths))
    for row_cells in cells:
        parts = []
        for column, cell, width in zip(columns, row_cells, widths):
            text = cell.ljust(width)
            if colour and column == colour_column and cell in STATE_COLOURS:
                text = click.style(text, fg=STATE_COLOURS[cell])
            parts.append(text)
        click.echo("  ".join(parts).rstrip())


def fail(message: str, code: int = 1) -> None:
    """Print an error naming what is wrong and exit non-zero."""
    click.echo(click.style("Error: ", fg="red", bold=True) + message, err=True)
    sys.exit(code)


def parse_json_conf(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"not valid JSON ({exc.msg} at position {exc.pos})", param_hint="--conf"
        ) from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object, e.g. '{\"key\": 1}'", param_hint="--conf")
    return parsed
