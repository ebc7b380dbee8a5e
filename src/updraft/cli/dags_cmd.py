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


# -- managing stored DAGs: pause, trigger, state, delete, next-execution ----------------------------


def parse_cli_datetime(value: str | None, option: str) -> Any:
    """An ISO 8601 date or datetime typed by the user (naive: in the DAG's time zone), or None."""
    from datetime import datetime

    if value is None:
        return None
    try:
        return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise click.BadParameter(
            f"invalid date {value!r}: use ISO 8601, e.g. 2024-01-31 or 2024-01-31T06:00", param_hint=option
        ) from None


def confirm(question: str) -> bool:
    """Ask a yes/no question; no answer (end of input) is no."""
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        click.echo(err=True)
        return False


def _set_paused(dag_id: str, paused: bool, regex: bool, yes: bool, output: str) -> None:
    from updraft.core.dag_admin import DagAdminError, find_dags, set_paused
    from updraft.core.dag_runs import DagNotStored
    from updraft.core.runtime.dag_test import prepare_engine
    from updraft.core.scheduler.wakeup import notify_scheduler

    engine = prepare_engine()
    try:
        with engine.connect() as conn:
            dags = find_dags(conn, dag_id, regex=regex)
    except (DagNotStored, DagAdminError) as exc:
        fail(str(exc), code=2)
        return
    targets = [d.dag_id for d in dags if d.is_paused != paused]
    if not targets:
        if regex:
            click.echo(f"No {'un' if paused else ''}paused DAGs were found")
        else:
            click.echo(f"DAG {dag_id} is already {'paused' if paused else 'unpaused'}")
        return
    if regex and not yes:
        verb = "pause" if paused else "unpause"
        question = f"You are about to {verb} {len(targets)} DAG(s):\n{','.join(targets)}\n\nAre you sure?"
        if not confirm(question):
            click.echo("Operation cancelled by user")
            return
    with engine.begin() as conn:
        changed = set_paused(conn, targets, paused)
    if changed and not paused:
        notify_scheduler()
    print_rows([{"dag_id": d, "is_paused": paused} for d in changed], ["dag_id", "is_paused"], output)


_REGEX_OPTION = click.option(
    "--treat-dag-id-as-regex", "regex", is_flag=True, help="DAG_ID is a regex (re.search) of DAG ids."
)
_YES_OPTION = click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")


@command.command(name="pause")
@click.argument("dag_id")
@_REGEX_OPTION
@_YES_OPTION
@OUTPUT_OPTION
def pause(dag_id: str, regex: bool, yes: bool, output: str) -> None:
    """Pause a DAG: the scheduler creates no new runs and starts no tasks of it."""
    _set_paused(dag_id, True, regex, yes, output)


@command.command(name="unpause")
@click.argument("dag_id")
@_REGEX_OPTION
@_YES_OPTION
@OUTPUT_OPTION
def unpause(dag_id: str, regex: bool, yes: bool, output: str) -> None:
    """Unpause a DAG (and wake the scheduler)."""
    _set_paused(dag_id, False, regex, yes, output)


@command.command(name="trigger")
@click.argument("dag_id")
@click.option("-c", "--conf", "conf_json", help="Run conf as a JSON object; overrides params.")
@click.option("-r", "--run-id", help="The run's id (default: manual__<logical date>).")
@click.option("-l", "--logical-date", help="ISO 8601 logical date (default: now).")
@click.option(
    "--no-replace-microseconds",
    "replace_microseconds",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Keep the microseconds of the logical date.",
)
@OUTPUT_OPTION
def trigger(
    dag_id: str,
    conf_json: str | None,
    run_id: str | None,
    logical_date: str | None,
    replace_microseconds: bool,
    output: str,
) -> None:
    """Create a manual run of a DAG; the scheduler runs it (once the DAG is unpaused)."""
    from updraft.core.dag_admin import DagAdminError, get_dag_info, trigger_dag
    from updraft.core.dag_runs import DagNotStored, DagRunExists
    from updraft.core.runtime.dag_test import prepare_engine
    from updraft.core.scheduler.wakeup import notify_scheduler
    from updraft.sdk.exceptions import ParamValidationError

    run_conf = parse_json_conf(conf_json)
    when = parse_cli_datetime(logical_date, "--logical-date")
    engine = prepare_engine()
    try:
        with engine.begin() as conn:
            run = trigger_dag(
                conn,
                dag_id,
                conf=run_conf,
                run_id=run_id,
                logical_date=when,
                replace_microseconds=replace_microseconds,
            )
            paused = get_dag_info(conn, dag_id).is_paused
    except ParamValidationError as exc:
        fail(f"invalid conf for DAG {dag_id!r}: {exc}", code=2)
        return
    except (DagNotStored, DagRunExists, DagAdminError) as exc:
        fail(str(exc), code=2)
        return
    notify_scheduler()
    columns = ["dag_id", "run_id", "logical_date", "run_type", "state"]
    if output != "table":
        columns += ["data_interval_start", "data_interval_end", "run_after", "conf", "triggered_by"]
    print_rows([run], columns, output, colour_column="state")
    if paused:
        click.echo(f"DAG {dag_id} is paused: the run waits until `updraft dags unpause {dag_id}`", err=True)


@command.command(name="state")
@click.argument("dag_id")
@click.argument("run_id")
def state(dag_id: str, run_id: str) -> None:
    """Print the state of a DAG run (given by run_id or logical date), and its conf if any."""
    import json

    from updraft.core.dag_admin import DagRunNotFound, run_state
    from updraft.core.dag_runs import DagNotStored
    from updraft.core.runtime.dag_test import prepare_engine

    try:
        with prepare_engine().connect() as conn:
            info = run_state(conn, dag_id, run_id)
    except (DagNotStored, DagRunNotFound) as exc:
        fail(str(exc), code=2)
        return
    click.echo(f"{info.state}, {json.dumps(info.conf)}" if info.conf else info.state)


@command.command(name="delete")
@click.argument("dag_id")
@_YES_OPTION
def delete(dag_id: str, yes: bool) -> None:
    """Delete every record of a DAG from the metadata DB (runs, tasks, XComs, versions...)."""
    from pathlib import Path

    from updraft.core.dag_admin import DagAdminError, delete_dag, get_dag_info
    from updraft.core.dag_runs import DagNotStored
    from updraft.core.runtime.dag_test import prepare_engine

    engine = prepare_engine()
    try:
        with engine.connect() as conn:
            info = get_dag_info(conn, dag_id)
    except DagNotStored as exc:
        fail(str(exc), code=2)
        return
    question = f"This will drop all existing records related to DAG {dag_id}. Proceed?"
    if not yes and not confirm(question):
        click.echo("Cancelled")
        return
    try:
        with engine.begin() as conn:
            count = delete_dag(conn, dag_id)
    except (DagNotStored, DagAdminError) as exc:
        fail(str(exc), code=1)
        return
    click.echo(f"Removed {count} record(s)")
    if info.fileloc and Path(info.fileloc).exists():
        click.echo(
            f"Note: {info.fileloc} still exists, so the DAG comes back when the file is parsed again",
            err=True,
        )


@command.command(name="next-execution")
@click.argument("dag_id")
@click.option(
    "-n", "--num-executions", type=click.IntRange(min=1), default=1, show_default=True, help="How many."
)
def next_execution(dag_id: str, num_executions: int) -> None:
    """Print the logical dates of the DAG's next scheduled runs ("None" if it has none)."""
    from updraft.core.dag_admin import get_dag_info, next_executions
    from updraft.core.dag_runs import DagNotStored
    from updraft.core.runtime.dag_test import prepare_engine

    try:
        with prepare_engine().connect() as conn:
            paused = get_dag_info(conn, dag_id).is_paused
            dates = next_executions(conn, dag_id, num_executions)
    except DagNotStored as exc:
        fail(str(exc), code=2)
        return
    if paused:
        click.echo("[INFO] Please be reminded this DAG is PAUSED now.", err=True)
    for when in dates:
        click.echo(when.isoformat())
    if len(dates) < num_executions:
        click.echo(
            "[WARN] No following schedule can be found. "
            "This DAG may have schedule interval '@once' or `None`.",
            err=True,
        )
        click.echo("None")


def _add_backfill() -> None:
    from updraft.cli.backfill_cmd import command as backfill

    command.add_command(backfill)


_add_backfill()
