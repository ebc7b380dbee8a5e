"""``updraft dags ...``: test a DAG end to end, list DAGs, runs and import errors, show a graph."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from updraft.cli.output import OUTPUT_OPTION, fail, parse_json_conf, print_rows

SUBDIR_OPTION = click.option(
    "-S", "--subdir", "dags_folder", default=None, help="DAG folder or file (default: core.dags_folder)."
)


@click.group(name="dags")
def command() -> None:
    """Test, list and inspect DAGs."""


class _ProgressLine:
    """A single status line on a terminal, redrawn at most 20 times a second."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, progress: Any) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.05 and progress.finished < progress.total):
            return
        self.last = now
        states = progress.states
        line = (
            f"[{progress.finished:>4}/{progress.total}] success {states.get('success', 0)}  "
            f"failed {states.get('failed', 0) + states.get('upstream_failed', 0)}  "
            f"skipped {states.get('skipped', 0)}  retry {states.get('up_for_retry', 0)}"
        )
        if progress.running:
            line += f"  running {progress.running}"
        sys.stderr.write("\r\x1b[K" + line[:200])
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


@command.command(name="test")
@click.argument("dag_id")
@click.argument("logical_date", required=False)
@click.option("-c", "--conf", "conf_json", help="Run conf as a JSON object; overrides params.")
@SUBDIR_OPTION
@click.option("-v", "--verbose", is_flag=True, help="Also print every task's log while it runs.")
@OUTPUT_OPTION
def test_command(
    dag_id: str,
    logical_date: str | None,
    conf_json: str | None,
    dags_folder: str | None,
    verbose: bool,
    output: str,
) -> None:
    """Run one whole DAG run in this process and record it in the metadata DB.

    Exits 0 only if the run succeeded.
    """
    from updraft.core.runtime.dag_test import DagNotFound, test_dag
    from updraft.sdk.exceptions import ParamValidationError

    run_conf = parse_json_conf(conf_json)
    progress = _ProgressLine()
    started = time.perf_counter()
    try:
        result = test_dag(
            dag_id,
            logical_date,
            run_conf,
            dags_folder=dags_folder,
            echo=sys.stdout if verbose else None,
            on_progress=progress,
        )
    except DagNotFound as exc:
        fail(str(exc), code=2)
        return
    except ParamValidationError as exc:
        fail(f"invalid conf for DAG {dag_id!r}: {exc}", code=2)
        return
    except ValueError as exc:
        fail(str(exc), code=2)
        return
    finally:
        progress.close()
    elapsed = time.perf_counter() - started
    rows = [
        {
            "task_id": r.task_id,
            "map_index": r.map_index if r.map_index >= 0 else "",
            "state": r.state.value if r.state else "none",
            "tries": r.try_number,
            "duration": r.duration,
            "error": r.error,
        }
        for r in result.records
    ]
    print_rows(rows, ["task_id", "map_index", "state", "tries", "duration"], output, colour_column="state")
    failed = [r for r in result.records if r.state is not None and r.state.value == "failed"]
    if output == "table":
        for record in failed:
            click.echo(f"\n{record.task_id} failed: {record.error}", err=True)
        click.echo(
            f"\nDAG run {result.run_id} of {dag_id}: {result.state.value} in {elapsed:.2f}s "
            f"(logs in {result.log_folder / f'dag_id={dag_id}'})",
            err=True,
        )
    sys.exit(0 if result.state.value == "success" else 1)


def _load(dag_id: str | None, dags_folder: str | None) -> Any:
    from updraft.core.runtime.dag_test import load_and_store, prepare_engine

    engine = prepare_engine()
    bag, _ = load_and_store(engine, dag_id, dags_folder)
    return engine, bag


@command.command(name="list")
@SUBDIR_OPTION
@OUTPUT_OPTION
def list_dags(dags_folder: str | None, output: str) -> None:
    """List the DAGs in the DAG folder (and store them in the metadata DB)."""
    from sqlalchemy import select

    from updraft.core.db.models import DagModel
    from updraft.sdk.timetables import describe_schedule

    engine, bag = _load(None, dags_folder)
    with engine.connect() as conn:
        paused = dict(conn.execute(select(DagModel.dag_id, DagModel.is_paused)).all())
    rows = [
        {
            "dag_id": dag.dag_id,
            "fileloc": dag.fileloc,
            "owners": dag.owner,
            "is_paused": paused.get(dag.dag_id),
            "schedule": describe_schedule(dag.timetable),
            "tags": ",".join(dag.tags),
        }
        for dag in sorted(bag.dags.values(), key=lambda d: d.dag_id)
    ]
    print_rows(rows, ["dag_id", "fileloc", "owners", "is_paused", "schedule", "tags"], output)
    if bag.import_errors and output == "table":
        click.echo(
            f"\n{len(bag.import_errors)} file(s) failed to import: see `updraft dags list-import-errors`",
            err=True,
        )


@command.command(name="list-import-errors")
@SUBDIR_OPTION
@OUTPUT_OPTION
def list_import_errors(dags_folder: str | None, output: str) -> None:
    """Show the DAG files that failed to import, with the reason."""
    _, bag = _load(None, dags_folder)
    rows = [{"filepath": path, "error": text} for path, text in sorted(bag.import_errors.items())]
    if output == "table":
        rows = [{"filepath": r["filepath"], "error": _summary(r["error"])} for r in rows]
    print_rows(rows, ["filepath", "error"], output)
    sys.exit(1 if rows else 0)


def _summary(text: str) -> str:
    """The most telling line of an import error: the exception line, without the file prefix."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    first = lines[0] if lines else ""
    summary = first if not first.startswith("/") or ": " not in first else first.split(": ", 1)[1]
    if len(lines) > 1 and "Traceback" in text:
        summary = last
    return summary[:300]


@command.command(name="list-runs")
@click.argument("dag_id")
@click.option("--state", help="Only runs in this state.")
@OUTPUT_OPTION
def list_runs(dag_id: str, state: str | None, output: str) -> None:
    """List the runs of a DAG, newest first."""
    from sqlalchemy import select

    from updraft.core.db.models import DagRun
    from updraft.core.runtime.dag_test import prepare_engine

    engine = prepare_engine()
    query = select(DagRun).where(DagRun.dag_id == dag_id)
    if state:
        query = query.where(DagRun.state == state)
    with engine.connect() as conn:
        runs = conn.execute(query.order_by(DagRun.logical_date.desc(), DagRun.id.desc())).mappings().all()
    rows = [
        {
            "dag_id": r["dag_id"],
            "run_id": r["run_id"],
            "state": r["state"],
            "run_type": r["run_type"],
            "logical_date": r["logical_date"],
            "start_date": r["start_date"],
            "end_date": r["end_date"],
        }
        for r in runs
    ]
    print_rows(
        rows,
        ["dag_id", "run_id", "state", "run_type", "logical_date", "start_date", "end_date"],
        output,
        colour_column="state",
    )


@command.command(name="show")
@click.argument("dag_id")
@SUBDIR_OPTION
def show(dag_id: str, dags_folder: str | None) -> None:
    """Print the DAG's graph as text: each task with the tasks that follow it."""
    from updraft.cli.graph_text import render_graph
    from updraft.core.runtime.dag_test import DagNotFound, dag_folders, find_dag

    _, bag = _load(dag_id, dags_folder)
    try:
        dag = find_dag(bag, dag_id, dag_folders(dags_folder))
    except DagNotFound as exc:
        fail(str(exc), code=2)
        return
    click.echo(render_graph(dag))
