"""``updraft tasks ...``: test one task, list tasks, show states of a run, print a task's log."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from updraft.cli.dags_cmd import SUBDIR_OPTION
from updraft.cli.output import OUTPUT_OPTION, fail, parse_json_conf, print_rows


@click.group(name="tasks")
def command() -> None:
    """Test, list and inspect tasks."""


@command.command(name="test")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("logical_date", required=False)
@click.option("-c", "--conf", "conf_json", help="Run conf as a JSON object; overrides params.")
@click.option("--map-index", type=int, default=-1, help="Which instance of a mapped task to run.")
@SUBDIR_OPTION
def test_task_command(
    dag_id: str,
    task_id: str,
    logical_date: str | None,
    conf_json: str | None,
    map_index: int,
    dags_folder: str | None,
) -> None:
    """Run one task once, ignoring its dependencies; its log is printed as it runs."""
    from updraft.core.runtime.dag_test import DagNotFound, test_task
    from updraft.sdk.exceptions import ParamValidationError

    try:
        state, error, _log_path = test_task(
            dag_id,
            task_id,
            logical_date,
            parse_json_conf(conf_json),
            dags_folder=dags_folder,
            map_index=map_index,
            echo=sys.stdout,
        )
    except (DagNotFound, ParamValidationError, KeyError, ValueError) as exc:
        fail(str(exc).strip("'\""), code=2)
        return
    click.echo(f"\nTask {task_id} of {dag_id}: {state}" + (f" ({error})" if error else ""), err=True)
    sys.exit(0 if state in ("success", "skipped") else 1)


@command.command(name="list")
@click.argument("dag_id")
@click.option("--tree", is_flag=True, help="Show the dependency graph instead.")
@SUBDIR_OPTION
def list_tasks(dag_id: str, tree: bool, dags_folder: str | None) -> None:
    """List the task ids of a DAG."""
    from updraft.cli.dags_cmd import _load
    from updraft.cli.graph_text import render_graph
    from updraft.core.runtime.dag_test import DagNotFound, dag_folders, find_dag

    _, bag = _load(dag_id, dags_folder)
    try:
        dag = find_dag(bag, dag_id, dag_folders(dags_folder))
    except DagNotFound as exc:
        fail(str(exc), code=2)
        return
    if tree:
        click.echo(render_graph(dag))
        return
    for task_id in sorted(dag.task_ids):
        click.echo(task_id)


@command.command(name="states-for-dag-run")
@click.argument("dag_id")
@click.argument("run_id")
@OUTPUT_OPTION
def states_for_dag_run(dag_id: str, run_id: str, output: str) -> None:
    """The state of every task instance of one run."""
    from sqlalchemy import select

    from updraft.core.db.models import DagRun, TaskInstance
    from updraft.core.runtime.dag_test import prepare_engine

    engine = prepare_engine()
    with engine.connect() as conn:
        exists = conn.scalar(select(DagRun.id).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if exists is None:
            fail(f"DAG {dag_id!r} has no run {run_id!r}; see `updraft dags list-runs {dag_id}`", code=2)
        tis = (
            conn.execute(
                select(TaskInstance)
                .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
                .order_by(
                    TaskInstance.start_date.is_(None),
                    TaskInstance.start_date,
                    TaskInstance.task_id,
                    TaskInstance.map_index,
                )
            )
            .mappings()
            .all()
        )
    rows = [
        {
            "dag_id": t["dag_id"],
            "run_id": t["run_id"],
            "task_id": t["task_id"],
            "map_index": t["map_index"],
            "state": t["state"] or "none",
            "try_number": t["try_number"],
            "start_date": t["start_date"],
            "end_date": t["end_date"],
            "duration": t["duration"],
            "cpu_time_s": t["cpu_time_s"],
            "peak_rss_bytes": t["peak_rss_bytes"],
        }
        for t in tis
    ]
    columns = ["task_id", "map_index", "state", "try_number", "start_date", "end_date", "duration"]
    if output == "json":
        columns = list(rows[0]) if rows else columns
    print_rows(rows, columns, output, colour_column="state")


@command.command(name="logs")
@click.argument("dag_id")
@click.argument("run_id")
@click.argument("task_id")
@click.option("--try", "try_number", type=int, help="Which attempt (default: the latest).")
@click.option("--map-index", type=int, default=-1, help="Which instance of a mapped task.")
def logs(dag_id: str, run_id: str, task_id: str, try_number: int | None, map_index: int) -> None:
    """Print the log of one attempt of a task instance."""
    from updraft.core.config import conf
    from updraft.core.runtime.task_log import attempt_log_path

    base = Path(conf.get("logging", "base_log_folder")).expanduser()
    folder = attempt_log_path(base, dag_id, run_id, task_id, map_index, 1).parent
    attempts = (
        sorted(int(p.stem.split("=", 1)[1]) for p in folder.glob("attempt=*.log")) if folder.is_dir() else []
    )
    if not attempts:
        fail(
            f"no logs for task {task_id!r} (map index {map_index}) of run {run_id!r} in DAG {dag_id!r} "
            f"(looked in {folder})",
            code=2,
        )
    chosen = try_number if try_number is not None else attempts[-1]
    if chosen not in attempts:
        fail(
            f"task {task_id!r} has no try {chosen}; tries with logs: {', '.join(map(str, attempts))}", code=2
        )
    click.echo(
        attempt_log_path(base, dag_id, run_id, task_id, map_index, chosen).read_text(errors="replace"),
        nl=False,
    )


@command.command(name="clear")
@click.argument("dag_id")
@click.option("-t", "--task-regex", help="Only tasks whose id matches this regex (re.search).")
@click.option("-s", "--start-date", help="Only runs with this logical date or later (ISO 8601).")
@click.option("-e", "--end-date", help="Only runs with this logical date or earlier (ISO 8601).")
@click.option("-d", "--downstream", is_flag=True, help="Also the tasks downstream of the matched ones.")
@click.option("-u", "--upstream", is_flag=True, help="Also the tasks upstream of the matched ones.")
@click.option("-f", "--only-failed", is_flag=True, help="Only failed and upstream_failed task instances.")
@click.option("-r", "--only-running", is_flag=True, help="Only running task instances.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def clear(
    dag_id: str,
    task_regex: str | None,
    start_date: str | None,
    end_date: str | None,
    downstream: bool,
    upstream: bool,
    only_failed: bool,
    only_running: bool,
    yes: bool,
) -> None:
    """Clear task instances so that the scheduler runs them again (their runs go back to queued)."""
    from updraft.cli.dags_cmd import confirm, parse_cli_datetime
    from updraft.core.clear import ClearError, clear_task_instances
    from updraft.core.dag_runs import DagNotStored
    from updraft.core.runtime.dag_test import prepare_engine
    from updraft.core.scheduler.wakeup import notify_scheduler

    run_clear = functools.partial(
        clear_task_instances,
        dag_id=dag_id,
        task_regex=task_regex,
        start_date=parse_cli_datetime(start_date, "--start-date"),
        end_date=parse_cli_datetime(end_date, "--end-date"),
        downstream=downstream,
        upstream=upstream,
        only_failed=only_failed,
        only_running=only_running,
    )
    engine = prepare_engine()
    try:
        if not yes:
            with engine.connect() as conn:
                planned = run_clear(conn, dry_run=True)
            if not planned:
                click.echo("Nothing to clear.")
                return
            listing = "\n".join(str(ti) for ti in planned)
            if not confirm(
                f"You are about to clear these {len(planned)} task instance(s):\n{listing}\n\nAre you sure?"
            ):
                click.echo("Cancelled, nothing was cleared.")
                return
        with engine.begin() as conn:
            cleared = run_clear(conn)
    except (DagNotStored, ClearError) as exc:
        fail(str(exc), code=2)
        return
    if not cleared:
        click.echo("Nothing to clear.")
        return
    notify_scheduler()
    runs = len({ti.run_id for ti in cleared})
    click.echo(f"Cleared {len(cleared)} task instance(s) in {runs} run(s) of DAG {dag_id}")
