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
    import os

    from updraft.cli.api_server_cmd import start_api_server_process
    from updraft.core.config import conf, updraft_home
    from updraft.core.db.engine import dispose_engines, get_engine
    from updraft.core.db.migrate import ensure_schema
    from updraft.core.passwords import generate_password
    from updraft.core.users import count_users, create_user

    home = updraft_home()
    engine = get_engine()
    ensure_schema(engine)
    with engine.begin() as conn:
        password = None
        if count_users(conn) == 0:
            password = generate_password()
            create_user(
                conn,
                username="admin",
                first_name="Admin",
                last_name="User",
                email="admin@localhost",
                roles=["Admin"],
                password=password,
            )
    if password is not None:
        path = home / "standalone_admin_password.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        os.chmod(path, 0o600)
        click.echo(f"Login with username: admin  password: {password} (also in {path})", err=True)
    dispose_engines()
    host, port = conf.get("api", "host"), conf.getint("api", "port")
    server = start_api_server_process(host, port)
    click.echo(f"updraft standalone: home {home}; UI at http://{host}:{port}; press Ctrl-C to stop", err=True)
    try:
        run_scheduler(None, True, dags_folder)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except Exception:  # noqa: BLE001 - it is going away either way
            server.kill()
