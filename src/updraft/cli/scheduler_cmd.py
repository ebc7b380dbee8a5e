"""``updraft scheduler`` and ``updraft standalone``: run DAGs on their schedules."""

from __future__ import annotations

import logging
import sys

import click


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="[%(asctime)s] %(levelname)s %(name)s - %(message)s"
    )


def run_scheduler(num_passes: int | None, with_dag_processor: bool, dags_folder: str | None) -> None:
    """Start the executor's workers, the DAG processor and the scheduler loop in this process tree."""
    import multiprocessing
    import os

    from updraft.core.config import conf
    from updraft.core.db.engine import dispose_engines, get_engine
    from updraft.core.executors.local import LocalExecutor
    from updraft.core.runtime.dag_test import prepare_engine
    from updraft.core.scheduler.loop import Scheduler

    if dags_folder:
        os.environ["UPDRAFT__CORE__DAGS_FOLDER"] = dags_folder
    prepare_engine()
    dispose_engines()  # no open connections may be inherited by the forked workers
    executor = LocalExecutor(num_workers=conf.getint("scheduler", "executor_workers", fallback=2))
    executor.start()
    stop = multiprocessing.get_context("fork").Event()
    processor = None
    if with_dag_processor:
        from updraft.core.dag_processing.manager import start_dag_processor_process

        processor = start_dag_processor_process(stop)
    try:
        Scheduler(get_engine(), executor, num_passes=num_passes).run()
    finally:
        stop.set()
        if processor is not None:
            processor.join(30)
            if processor.is_alive():
                processor.terminate()


@click.command(name="scheduler")
@click.option("-n", "--num-runs", "num_passes", type=int, default=None, help="Stop after this many passes.")
@click.option("--skip-dag-processor", is_flag=True, help="Do not parse DAG files in this process tree.")
@click.option("-S", "--subdir", "dags_folder", default=None, help="DAG folder (default: core.dags_folder).")
def command(num_passes: int | None, skip_dag_processor: bool, dags_folder: str | None) -> None:
    """Run every unpaused DAG on its schedule; tasks run as local processes."""
    _setup_logging()
    run_scheduler(num_passes, not skip_dag_processor, dags_folder)


@click.command(name="standalone")
@click.option("-S", "--subdir", "dags_folder", default=None, help="DAG folder (default: core.dags_folder).")
def standalone(dags_folder: str | None) -> None:
    """Migrate the DB, then run the DAG processor and the scheduler together (Ctrl-C stops)."""
    _setup_logging()
    from updraft.core.config import updraft_home

    click.echo(f"updraft standalone: home {updraft_home()}; press Ctrl-C to stop", err=True)
    run_scheduler(None, True, dags_folder)
