"""One task attempt in its own process, as the local (and later Celery) executor starts it.

The process claims its task instance with a compare-and-set (``queued`` at this try number ->
``running``), so a stale or duplicate workload does nothing; runs the attempt with its own log
file; heartbeats while it runs; and records the outcome, its CPU time and peak memory in one
transaction. A mapped task's placeholder (map_index -1) instead expands into its instances.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from updraft.core.config import conf
from updraft.core.db.asset_events import triggering_events
from updraft.core.db.engine import get_engine
from updraft.core.db.models import DagRun, TaskInstance
from updraft.core.executors.workload import DAG_CALLBACK, Workload
from updraft.core.runtime import run_store
from updraft.core.runtime.attempt import AttemptOutcome, run_attempt, utcnow
from updraft.core.runtime.context import build_context
from updraft.core.runtime.services import install_runtime_services
from updraft.core.runtime.task_instance import RunInfo, RuntimeTaskInstance
from updraft.core.runtime.task_log import AttemptLog, attempt_log_path
from updraft.core.runtime.xcom_store import XComStore
from updraft.core.scheduler.wakeup import notify_assets_queued, notify_run_changed
from updraft.sdk.abstractoperator import AbstractOperator
from updraft.sdk.assets import asset_outlets
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.masking import redact
from updraft.sdk.params import merge_conf_into_params
from updraft.sdk.states import DagRunType
from updraft.sdk.states import TaskInstanceState as TI

log = logging.getLogger("updraft.task")
HEARTBEAT_INTERVAL_S = 5.0


class TaskTerminated(UpdraftException):
    """The attempt's process was asked to stop (SIGTERM): a timeout or a shutdown."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise TaskTerminated("the task's process received SIGTERM")


def _engine() -> Engine:
    # The engine object comes from the warm worker (its compiled-statement cache and dialect set-up
    # included); the fork hook in updraft.core.db.engine gave this process fresh connections.
    return get_engine()


def warm_up(engine: Engine) -> None:
    """Compile, once in the warm worker, the statements every attempt runs (children inherit it).

    Runs them against a key that matches nothing, in a transaction that is rolled back.
    """
    wl = Workload("__warm_up__", "__warm_up__", "__warm_up__", -1, 1, "")
    now = utcnow()
    xcoms = XComStore(engine, max_bytes=None, cache=False)
    outcome = AttemptOutcome(state=TI.SUCCESS, start_date=now, end_date=now)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(_claim_statement(wl, now).returning(TaskInstance.max_tries)).first()
            xcoms.clear(conn, wl.dag_id, wl.run_id, wl.task_id, wl.map_index)
            conn.execute(select(DagRun).where(DagRun.dag_id == wl.dag_id, DagRun.run_id == wl.run_id)).first()
            run_store.previous_success(conn, wl.dag_id, now)
            with contextlib.suppress(Exception), conn.begin_nested():
                run_store.record_finish(
                    conn,
                    wl.dag_id,
                    wl.run_id,
                    wl.task_id,
                    wl.map_index,
                    try_number=1,
                    state=outcome.state.value,
                    start=now,
                    end=now,
                    next_retry_at=None,
                    error=None,
                    operator=None,
                    pool=None,
                    rendered_fields=None,
                    cpu_time_s=0.0,
                    peak_rss_bytes=0,
                )
        finally:
            transaction.rollback()


def _run_info(row: Any) -> RunInfo:
    return RunInfo(
        dag_id=row.dag_id,
        run_id=row.run_id,
        logical_date=row.logical_date,
        data_interval_start=row.data_interval_start,
        data_interval_end=row.data_interval_end,
        run_after=row.run_after,
        run_type=row.run_type,
        conf=dict(row.conf or {}),
        start_date=row.start_date,
        state=row.state,
        id=row.id,
    )


def _claim_statement(wl: Workload, now: datetime) -> Any:
    return (
        update(TaskInstance)
        .where(
            TaskInstance.dag_id == wl.dag_id,
            TaskInstance.run_id == wl.run_id,
            TaskInstance.task_id == wl.task_id,
            TaskInstance.map_index == wl.map_index,
            TaskInstance.state == TI.QUEUED.value,
            TaskInstance.try_number == wl.try_number,
        )
        .values(
            state=TI.RUNNING.value,
            start_date=now,
            end_date=None,
            duration=None,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            last_heartbeat_at=now,
            updated_at=now,
        )
    )


def _claim(engine: Engine, wl: Workload, xcoms: XComStore) -> tuple[int, Any] | None:
    """queued -> running for exactly this try, in one transaction with the attempt's set-up (its
    old XComs cleared, its run read). None if someone else has it or it was reset meanwhile."""
    with engine.begin() as conn:
        claimed = conn.execute(_claim_statement(wl, utcnow()).returning(TaskInstance.max_tries)).first()
        if claimed is None:
            return None
        xcoms.clear(conn, wl.dag_id, wl.run_id, wl.task_id, wl.map_index)
        run_row = conn.execute(
            select(DagRun).where(DagRun.dag_id == wl.dag_id, DagRun.run_id == wl.run_id)
        ).first()
        return int(claimed.max_tries), run_row


class _Heartbeat(threading.Thread):
    """Tells the scheduler this attempt is alive (it fails attempts that go silent)."""

    def __init__(self, engine: Engine, wl: Workload) -> None:
        super().__init__(daemon=True, name="updraft-heartbeat")
        self.engine = engine
        self.wl = wl
        self.stopped = threading.Event()

    def run(self) -> None:
        # Several heartbeats fit in the timeout, whatever it is configured to.
        timeout = conf.getfloat("scheduler", "task_instance_heartbeat_timeout")
        interval = max(0.05, min(HEARTBEAT_INTERVAL_S, timeout / 4))
        while not self.stopped.wait(interval):
            try:
                with self.engine.begin() as conn:
                    alive = conn.execute(
                        update(TaskInstance)
                        .where(
                            TaskInstance.dag_id == self.wl.dag_id,
                            TaskInstance.run_id == self.wl.run_id,
                            TaskInstance.task_id == self.wl.task_id,
                            TaskInstance.map_index == self.wl.map_index,
                            TaskInstance.try_number == self.wl.try_number,
                            TaskInstance.state == TI.RUNNING.value,
                        )
                        .values(last_heartbeat_at=utcnow())
                    ).rowcount
            except Exception:
                log.warning("heartbeat failed", exc_info=True)
                continue
            if not alive:
                # Cleared, marked or failed from outside: stop this attempt, as Airflow does.
                log.warning("the task instance was changed from outside; stopping this attempt")
                os.kill(os.getpid(), signal.SIGTERM)
                return


def _usage() -> tuple[float, int]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return cpu, max(own.ru_maxrss, children.ru_maxrss) * 1024


def prepare_process() -> None:
    """Everything an attempt's process can do before it knows its workload: signal handlers, an
    open DB connection with the schema read, the runtime services. A worker's spare child does
    this ahead of time, off the hand-off path."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The attempt's lines belong in its own log file, not in the scheduler's output it inherited.
    logging.getLogger().handlers.clear()
    with _engine().connect() as conn:
        conn.execute(select(TaskInstance.id).where(TaskInstance.id == -1)).first()
    _install_services()


def run_workload(wl: Workload, dag: DAG | None, load_error: str | None) -> int:
    """Entry point of the forked attempt process (after ``prepare_process``); returns its exit code."""
    engine = _engine()
    if wl.kind == DAG_CALLBACK:
        return _run_dag_callbacks(engine, wl, dag)
    xcoms = XComStore(engine, max_bytes=conf.getint("core", "xcom_max_size_bytes"), cache=False)
    claimed = _claim(engine, wl, xcoms)
    if claimed is None:
        return 0
    max_tries, run_row = claimed
    log_folder = Path(conf.get("logging", "base_log_folder")).expanduser()
    path = attempt_log_path(log_folder, wl.dag_id, wl.run_id, wl.task_id, wl.map_index, wl.try_number)
    problem = load_error or (None if dag is not None else f"DAG {wl.dag_id!r} is not defined in {wl.fileloc}")
    if problem is None and dag is not None and wl.task_id not in dag.task_dict:
        problem = f"DAG {wl.dag_id!r} has no task {wl.task_id!r} any more"
    if problem is not None or run_row is None or dag is None:
        _record_unrunnable(engine, xcoms, wl, path, problem or "its DAG run is gone", max_tries)
        return 0
    task = dag.task_dict[wl.task_id]
    run = _run_info(run_row)
    if task.is_mapped and wl.map_index < 0:
        return _expand(engine, xcoms, wl, dag, task, run, path)
    heartbeat = _Heartbeat(engine, wl)
    heartbeat.start()
    ti = RuntimeTaskInstance(
        task=task,
        dag=dag,
        dag_run=run,
        map_index=wl.map_index,
        try_number=wl.try_number,
        max_tries=max_tries,
        xcoms=xcoms,
    )
    with AttemptLog(path):
        try:
            params = merge_conf_into_params(dag.params, run.conf)
        except Exception as exc:  # noqa: BLE001 - a conf that no longer fits fails the attempt
            params = {}
            log.error("the run's conf does not match the DAG's params: %s", exc)
        with engine.connect() as conn:
            prev = run_store.previous_success(conn, dag.dag_id, run.logical_date)
            if run.run_type == DagRunType.ASSET_TRIGGERED.value and run.id is not None:
                run.triggering_asset_events = triggering_events(conn, run.id)
        outcome = run_attempt(
            task,
            ti,
            params,
            prev_success=prev,
            max_map_length=conf.getint("core", "max_map_length"),
            max_retry_delay=timedelta(seconds=conf.getfloat("core", "max_task_retry_delay")),
        )
    heartbeat.stopped.set()
    cpu, rss = _usage()
    skips: list[tuple[str, int, str | None]] = [
        (task_id, -1, TI.SKIPPED.value) for task_id in sorted(outcome.skipped_downstream)
    ]
    with engine.begin() as conn:
        skips = _only_unstarted(conn, wl, skips)
        run_store.record_outcome(
            conn,
            xcoms,
            wl.dag_id,
            wl.run_id,
            task,
            wl.map_index,
            wl.try_number,
            outcome,
            skips,
            cpu_time_s=cpu,
            peak_rss_bytes=rss,
        )
    notify_run_changed(wl.dag_id, wl.run_id)
    if outcome.state is TI.SUCCESS and asset_outlets(getattr(task, "outlets", None)):
        notify_assets_queued()
    return 0


def _only_unstarted(
    conn: Any, wl: Workload, skips: list[tuple[str, int, str | None]]
) -> list[tuple[str, int, str | None]]:
    """Branch skips apply to every map index of the task, and only to instances not started."""
    if not skips:
        return []
    task_ids = [task_id for task_id, _, _ in skips]
    rows = conn.execute(
        select(TaskInstance.task_id, TaskInstance.map_index).where(
            TaskInstance.dag_id == wl.dag_id,
            TaskInstance.run_id == wl.run_id,
            TaskInstance.task_id.in_(task_ids),
            TaskInstance.state.is_(None) | (TaskInstance.state == TI.SCHEDULED.value),
        )
    ).all()
    return [(row.task_id, row.map_index, TI.SKIPPED.value) for row in rows]


def _record_unrunnable(
    engine: Engine, xcoms: XComStore, wl: Workload, path: Path, problem: str, max_tries: int
) -> None:
    """The attempt could not even start (DAG file broken, task gone): fail it like any error."""
    now = utcnow()
    with AttemptLog(path):
        log.error("cannot run %s: %s", wl.task_id, problem)
    retriable = wl.try_number <= max_tries
    delay = timedelta(seconds=conf.getfloat("core", "default_task_retry_delay"))
    outcome = AttemptOutcome(
        state=TI.UP_FOR_RETRY if retriable else TI.FAILED,
        start_date=now,
        end_date=now,
        error=problem,
        next_retry_at=now + delay if retriable else None,
    )
    with engine.begin() as conn:
        run_store.record_finish(
            conn,
            wl.dag_id,
            wl.run_id,
            wl.task_id,
            wl.map_index,
            try_number=wl.try_number,
            state=outcome.state.value,
            start=now,
            end=now,
            next_retry_at=outcome.next_retry_at,
            error=problem,
            operator=None,
            pool=None,
            rendered_fields=None,
        )


def _expand(
    engine: Engine, xcoms: XComStore, wl: Workload, dag: DAG, task: AbstractOperator, run: RunInfo, path: Path
) -> int:
    """Resolve a mapped task's input (its own, or its mapped group's) and replace its placeholder
    by one instance per item."""
    ti = RuntimeTaskInstance(
        task=task, dag=dag, dag_run=run, map_index=-1, try_number=wl.try_number, max_tries=0, xcoms=xcoms
    )
    with AttemptLog(path):
        try:
            params = merge_conf_into_params(dag.params, run.conf)
            context = build_context(task, ti, params)
            count = len(task.expand_kwargs_at_runtime(context, conf.getint("core", "max_map_length")))
            error = None
        except Exception as exc:  # noqa: BLE001 - the user's expand input failed to resolve
            count = 0
            error = redact(f"cannot expand mapped task {task.task_id!r}: {type(exc).__name__}: {exc}")
            log.error(error)
        else:
            log.info("expanding %s into %d instances", task.task_id, count)
    now = utcnow()
    with engine.begin() as conn:
        if error is not None or count == 0:
            state = TI.FAILED if error is not None else TI.SKIPPED
            run_store.record_finish(
                conn,
                wl.dag_id,
                wl.run_id,
                wl.task_id,
                -1,
                try_number=wl.try_number,
                state=state.value,
                start=now,
                end=now,
                next_retry_at=None,
                error=error,
                operator=getattr(task, "operator_name", type(task).__name__),
                pool=getattr(task, "pool", None),
                rendered_fields=None,
            )
            return 0
        placeholder = conn.execute(
            select(TaskInstance).where(
                TaskInstance.dag_id == wl.dag_id,
                TaskInstance.run_id == wl.run_id,
                TaskInstance.task_id == wl.task_id,
                TaskInstance.map_index == -1,
            )
        ).first()
        if placeholder is None:
            return 0
        row = run_store.TIRow(
            task_id=task.task_id,
            map_index=-1,
            max_tries=placeholder.max_tries,
            operator=getattr(task, "operator_name", type(task).__name__),
            pool=placeholder.pool,
            pool_slots=placeholder.pool_slots,
            queue=placeholder.queue,
            priority_weight=placeholder.priority_weight or 1,
        )
        run_store.expand_task(conn, wl.dag_id, wl.run_id, row, count)
    return 0


def _run_dag_callbacks(engine: Engine, wl: Workload, dag: DAG | None) -> int:
    """A finished run's on_success/on_failure callbacks, in this process (never the scheduler's)."""
    if dag is None:
        return 1
    callbacks = dag.on_success_callback if wl.reason == "success" else dag.on_failure_callback
    if not callbacks:
        return 0
    with engine.connect() as conn:
        run_row = conn.execute(
            select(DagRun).where(DagRun.dag_id == wl.dag_id, DagRun.run_id == wl.run_id)
        ).first()
    if run_row is None:
        return 1
    run = _run_info(run_row)
    task = dag.task_dict.get(wl.task_id) or next(iter(dag.task_dict.values()))
    xcoms = XComStore(engine, max_bytes=None, cache=False)
    ti = RuntimeTaskInstance(
        task=task,
        dag=dag,
        dag_run=run,
        map_index=wl.map_index,
        try_number=max(wl.try_number, 1),
        max_tries=0,
        xcoms=xcoms,
    )
    try:
        params = merge_conf_into_params(dag.params, run.conf)
    except Exception:  # noqa: BLE001
        params = {}
    context = build_context(task, ti, params)
    context["reason"] = wl.reason
    for callback in callbacks:
        try:
            callback(context)
        except Exception:
            log.exception("DAG %s callback %r raised", wl.reason, callback)
    return 0


def _install_services() -> None:
    install_runtime_services()


__all__ = ["TaskTerminated", "run_workload"]
