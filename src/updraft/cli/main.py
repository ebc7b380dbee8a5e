"""Entry point of the ``updraft`` command; subcommand modules are imported only when used."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "api-server": ("updraft.cli.api_server_cmd", "Serve the REST API and the web UI."),
    "config": ("updraft.cli.config_cmd", "Show configuration."),
    "connections": ("updraft.cli.connections_cmd", "Manage connections."),
    "dag-processor": ("updraft.cli.dag_processor_cmd", "Parse DAG files into the metadata DB."),
    "dags": ("updraft.cli.dags_cmd", "Test, list and inspect DAGs."),
    "db": ("updraft.cli.db_cmd", "Manage the metadata database."),
    "pools": ("updraft.cli.pools_cmd", "Manage pools."),
    "rotate-fernet-key": ("updraft.cli.rotate_fernet_key_cmd", "Re-encrypt stored secrets under a new key."),
    "scheduler": ("updraft.cli.scheduler_cmd", "Run DAGs on their schedules."),
    "standalone": ("updraft.cli.standalone_cmd", "Run the DAG processor and scheduler together."),
    "tasks": ("updraft.cli.tasks_cmd", "Test, list and inspect tasks."),
    "users": ("updraft.cli.users_cmd", "Manage users of the web UI and REST API."),
    "variables": ("updraft.cli.variables_cmd", "Manage variables."),
    "version": ("updraft.cli.version_cmd", "Show the version."),
    "webserver": ("updraft.cli.api_server_cmd", "Serve the REST API and the web UI (api-server)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS:
            return None
        module = importlib.import_module(SUBCOMMANDS[name][0])
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(SUBCOMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Updraft: a light, fast workflow orchestrator that runs Airflow DAG files."""


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="updraft", standalone_mode=True)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
