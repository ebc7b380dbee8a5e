"""``updraft dag-processor``: parse the DAG files into the metadata DB, once or until stopped."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from updraft.core.dag_processing import PassStats


def _print_pass(stats: PassStats) -> None:
    click.echo(
        f"{stats.files} files, {stats.dags} DAGs, {stats.errors} import errors "
        f"({stats.parsed} files parsed in {stats.duration:.2f}s)"
    )


@click.command(name="dag-processor")
@click.option(
    "-n",
    "--num-runs",
    type=click.IntRange(min=1),
    default=None,
    help="Passes over the DAG folder before exiting (default: run until stopped).",
)
@click.option("-S", "--subdir", default=None, help="DAG folder or file to parse (default: core.dags_folder).")
def command(num_runs: int | None, subdir: str | None) -> None:
    """Parse DAG files into the metadata DB.

    Lists the DAG folder, imports each new or changed file in a child process (with
    core.dagbag_import_timeout), stores its DAGs as versioned JSON and its import errors, and takes
    DAGs whose files are gone off the DAG list. SIGTERM or Ctrl-C stops it cleanly.
    """
    from updraft.core.dag_processing import DagProcessorManager, processor_folders
    from updraft.core.db.engine import dispose_engines, get_engine
    from updraft.core.db.migrate import ensure_schema

    engine = get_engine()
    ensure_schema(engine)
    folders = processor_folders(subdir)
    if not folders[0].exists():
        click.echo(f"warning: DAG folder {folders[0]} does not exist", err=True)
    manager = DagProcessorManager(folders, engine=engine)
    signals_seen = 0

    def on_signal(signum: int, frame: object) -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen > 1:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now (children killed, batch rolled back)
        manager.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    where = ", ".join(str(f) for f in folders)
    if num_runs is None:
        click.echo(f"DAG processor watching {where} (stop with Ctrl-C or SIGTERM)", err=True)
    try:
        manager.run_forever(max_runs=num_runs, on_pass=_print_pass)
    finally:
        dispose_engines()
    if signals_seen and num_runs is None:
        click.echo("DAG processor stopped", err=True)
    sys.exit(1 if num_runs is not None and manager.failed_passes else 0)
