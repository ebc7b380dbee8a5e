"""``updraft dags test`` / ``tasks test``: load the DAG, store it, create a run and drive it here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from updraft.core.config import conf
from updraft.core.dag_runs import create_dag_run
from updraft.core.dag_store import sync_dagbag
from updraft.core.dagbag import EXAMPLE_DAGS_FOLDER, DagBag, load_dagbag
from updraft.core.db.engine import get_engine
from updraft.core.db.migrate import ensure_schema
from updraft.core.runtime import run_store
from updraft.core.runtime.attempt import run_attempt
from updraft.core.runtime.local_run import LocalRunDriver, RunProgress, TIRecord
from updraft.core.runtime.services import install_runtime_services
from updraft.core.runtime.task_instance import RunInfo, RuntimeTaskInstance
from updraft.core.runtime.task_log import AttemptLog, attempt_log_path
from updraft.core.runtime.xcom_store import XComStore
from updraft.core.sdk_settings import configure_sdk
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.params import merge_conf_into_params
from updraft.sdk.serialization import priority_weights
from updraft.sdk.states import DagRunState, DagRunType
from updraft.sdk.timetables import DataInterval


class DagNotFound(UpdraftException):
    """The DAG id is not defined by any file in the DAG folders."""


@dataclass
class RunResult:
    dag_id: str
    run_id: str
    state: DagRunState
    records: list[TIRecord]
    log_folder: Path


def dag_folders(dags_folder: str | None = None, include_examples: bool | None = None) -> list[Path]:
    folder = Path(dags_folder or conf.get("core", "dags_folder")).expanduser()
    folders = [folder]
    if include_examples if include_examples is not None else conf.getboolean("core", "load_examples"):
        folders.append(EXAMPLE_DAGS_FOLDER)
    return folders


def prepare_engine() -> Engine:
    configure_sdk()
    engine = get_engine()
    ensure_schema(engine)
    install_runtime_services(engine)
    return engine


def load_and_store(
    engine: Engine, dag_id: str | None, dags_folder: str | None = None, include_examples: bool | None = None
) -> tuple[DagBag, dict[str, int]]:
    bag = load_dagbag(
        dag_folders(dags_folder, include_examples),
        timeout=conf.getfloat("core", "dagbag_import_timeout"),
        only_dag_id=dag_id,
    )
    with engine.begin() as conn:
        ids = sync_dagbag(conn, bag, conf.getboolean("core", "dags_are_paused_at_creation"))
    return bag, ids


def find_dag(bag: DagBag, dag_id: str, folders: list[Path]) -> DAG:
    dag = bag.get_dag(dag_id)
    if dag is not None:
        return dag
    where = ", ".join(str(f) for f in folders)
    hint = ""
    if bag.import_errors:
        hint = "\nThese files failed to import and may define it:\n" + "\n".join(
            f"  {path}: {text.splitlines()[0] if text else ''}" for path, text in bag.import_errors.items()
        )
    raise DagNotFound(f"DAG {dag_id!r} was not found in {where}{hint}")


def parse_logical_date(value: str | datetime | None, dag: DAG) -> datetime:
    if value is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"invalid logical date {value!r}: use ISO 8601, e.g. 2024-01-31 or 2024-01-31T06:00"
            ) from None
    else:
        parsed = value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dag.timezone)
    return parsed.astimezone(timezone.utc)


def make_run_info(dag: DAG, logical_date: datetime, conf_value: dict[str, Any] | None) -> RunInfo:
    interval = dag.timetable.infer_manual_data_interval(run_after=logical_date)
    return RunInfo(
        dag_id=dag.dag_id,
        run_id=DagRunType.MANUAL.generate_run_id(logical_date.isoformat()),
        logical_date=logical_date,
        data_interval_start=interval.start,
        data_interval_end=interval.end,
        run_after=logical_date,
        run_type=DagRunType.MANUAL.value,
        conf=dict(conf_value or {}),
        start_date=datetime.now(timezone.utc),
    )


def _xcom_store(engine: Engine) -> XComStore:
    return XComStore(engine, max_bytes=conf.getint("core", "xcom_max_size_bytes"))


def _max_retry_delay() -> timedelta:
    return timedelta(seconds=conf.getfloat("core", "max_task_retry_delay"))


def test_dag(
    dag_id: str,
    logical_date: str | datetime | None = None,
    run_conf: dict[str, Any] | None = None,
    *,
    dags_folder: str | None = None,
    include_examples: bool | None = None,
    echo: TextIO | None = None,
    on_progress: Callable[[RunProgress], None] | None = None,
) -> RunResult:
    """One full DAG run in this process, recorded in the metadata DB."""
    engine = prepare_engine()
    folders = dag_folders(dags_folder, include_examples)
    bag, serialized_ids = load_and_store(engine, dag_id, dags_folder, include_examples)
    dag = find_dag(bag, dag_id, folders)
    params = merge_conf_into_params(dag.params, run_conf)
    run = make_run_info(dag, parse_logical_date(logical_date, dag), run_conf)
    priority = priority_weights(dag)
    with engine.begin() as conn:
        run_store.delete_runs(conn, dag_id, run.run_id, run.logical_date)
        run.id, _ = create_dag_run(
            conn,
            dag,
            serialized_ids.get(dag_id),
            run_type=DagRunType.MANUAL,
            logical_date=run.logical_date,
            data_interval=DataInterval(run.data_interval_start, run.data_interval_end),  # type: ignore[arg-type]
            run_after=run.run_after,
            conf=run_conf,
            run_id=run.run_id,
            state=DagRunState.RUNNING,
            triggered_by="test",
            priority=priority,
        )
    log_folder = Path(conf.get("logging", "base_log_folder")).expanduser()
    driver = LocalRunDriver(
        dag,
        run,
        engine=engine,
        xcoms=_xcom_store(engine),
        params=params,
        log_folder=log_folder,
        priority=priority,
        max_map_length=conf.getint("core", "max_map_length"),
        max_retry_delay=_max_retry_delay(),
        echo=echo,
        on_progress=on_progress,
    )
    state = driver.execute()
    return RunResult(dag_id, run.run_id, state, driver.records(), log_folder)


def test_task(
    dag_id: str,
    task_id: str,
    logical_date: str | datetime | None = None,
    run_conf: dict[str, Any] | None = None,
    *,
    dags_folder: str | None = None,
    include_examples: bool | None = None,
    map_index: int = -1,
    echo: TextIO | None = None,
) -> tuple[str, str | None, Path]:
    """Run one task once, ignoring its dependencies (``updraft tasks test``).

    Nothing about the attempt is stored but its log; it can read XComs that a ``dags test`` of
    the same logical date left behind.
    """
    engine = prepare_engine()
    folders = dag_folders(dags_folder, include_examples)
    bag, _ = load_and_store(engine, dag_id, dags_folder, include_examples)
    dag = find_dag(bag, dag_id, folders)
    task = dag.get_task(task_id)
    params = merge_conf_into_params(dag.params, run_conf)
    run = make_run_info(dag, parse_logical_date(logical_date, dag), run_conf)
    xcoms = _xcom_store(engine)
    ti = RuntimeTaskInstance(
        task=task,
        dag=dag,
        dag_run=run,
        map_index=max(map_index, 0) if task.is_mapped else -1,
        try_number=1,
        max_tries=0,
        xcoms=xcoms,
    )
    log_folder = Path(conf.get("logging", "base_log_folder")).expanduser()
    path = attempt_log_path(log_folder, dag_id, run.run_id, task_id, ti.map_index, 1)
    if path.exists():
        path.unlink()
    with AttemptLog(path, echo=echo):
        outcome = run_attempt(
            task, ti, params, max_map_length=conf.getint("core", "max_map_length"), test_mode=True
        )
    return outcome.state.value, outcome.error, path
