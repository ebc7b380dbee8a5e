"""``updraft dags backfill DAG_ID -s START -e END``: run a DAG over a past date range."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click

from updraft.cli.output import fail, print_rows

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from updraft.core.backfill import Backfill


def _date(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; use ISO 8601, e.g. 2024-01-31", param_hint=option
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@click.command(name="backfill")
@click.argument("dag_id")
@click.option("-s", "--start-date", required=True, help="First logical date (inclusive).")
@click.option("-e", "--end-date", required=True, help="Last logical date (inclusive).")
@click.option("--reset-dagruns", is_flag=True, help="Delete and re-run runs that already exist in the range.")
@click.option(
    "--rerun-failed-tasks", is_flag=True, help="Re-run the failed tasks of failed runs in the range."
)
@click.option(
    "--max-active-runs", type=click.IntRange(min=1), default=None, help="Runs at a time (default: the DAG's)."
)
@click.option("--dry-run", is_flag=True, help="Only list the runs the backfill would create.")
def command(
    dag_id: str,
    start_date: str,
    end_date: str,
    reset_dagruns: bool,
    rerun_failed_tasks: bool,
    max_active_runs: int | None,
    dry_run: bool,
) -> None:
    """Run DAG_ID for every scheduled interval between START and END, and wait for the runs."""
    from updraft.core.backfill import (
        Backfill,
        BackfillError,
        drive_with_external_scheduler,
        plan_runs,
        scheduler_is_running,
    )
    from updraft.core.dag_runs import DagNotStored, latest_serialized
    from updraft.core.runtime.dag_test import load_and_store, prepare_engine

    start, end = _date(start_date, "--start-date"), _date(end_date, "--end-date")
    engine = prepare_engine()
    load_and_store(engine, dag_id)
    try:
        with engine.connect() as conn:
            _, dag = latest_serialized(conn, dag_id)
        plan = plan_runs(dag, start, end)
    except (DagNotStored, BackfillError) as exc:
        fail(str(exc), code=2)
        return
    if dry_run or not plan:
        print_rows(
            [
                {
                    "logical_date": info.logical_date,
                    "data_interval_start": info.data_interval.start,
                    "data_interval_end": info.data_interval.end,
                }
                for info in plan
            ],
            ["logical_date", "data_interval_start", "data_interval_end"],
            "table",
        )
        click.echo(
            f"{len(plan)} run(s) in the range" + (" (dry run: nothing created)" if dry_run else ""), err=True
        )
        return
    backfill = Backfill(
        engine,
        dag_id,
        plan,
        max_active_runs=max_active_runs or dag.max_active_runs,
        reset_dagruns=reset_dagruns,
        rerun_failed_tasks=rerun_failed_tasks,
    )
    if scheduler_is_running(engine):
        click.echo(f"backfilling {len(plan)} run(s) of {dag_id} with the running scheduler", err=True)
        drive_with_external_scheduler(backfill)
    else:
        click.echo(
            f"backfilling {len(plan)} run(s) of {dag_id} (no scheduler running: running them here)", err=True
        )
        _drive_here(engine, backfill)
    rows = [{"run_id": run_id, "state": state} for (_, run_id), state in sorted(backfill.result.runs.items())]
    print_rows(rows, ["run_id", "state"], "table", colour_column="state")
    for run_id in backfill.result.skipped_existing:
        click.echo(
            f"kept existing run {run_id} (use --reset-dagruns or --rerun-failed-tasks to run it again)",
            err=True,
        )
    sys.exit(0 if all(state == "success" for state in backfill.result.runs.values()) else 1)


def _drive_here(engine: Engine, backfill: Backfill) -> None:
    """No scheduler is running: drive the backfill's runs with a scheduler limited to them."""
    from updraft.cli.scheduler_cmd import _setup_logging
    from updraft.core.config import conf
    from updraft.core.db.engine import dispose_engines, get_engine
    from updraft.core.executors.local import LocalExecutor
    from updraft.core.scheduler.loop import Scheduler

    _setup_logging()
    backfill.step()
    dispose_engines()
    executor = LocalExecutor(num_workers=conf.getint("scheduler", "executor_workers", fallback=2))
    executor.start()
    Scheduler(get_engine(), executor, scope=backfill.scope, on_pass=backfill.step).run()
