"""Task attempts that ended without recording their outcome, and recovery after a crash.

- A task process that died (killed, OOM, execution_timeout) leaves its instance ``running``:
  it is failed, or put up for retry, with the cause written in its attempt log.
- An attempt that stops heartbeating (a lost remote worker) is treated the same way after
  ``scheduler.task_instance_heartbeat_timeout``; on this host a dead pid is enough.
- After a scheduler restart, ``queued`` instances (handed to an executor that is gone) are
  rescheduled with the same try; ``running`` ones are left to finish and watched by pid.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, select, update

from updraft.core.config import conf
from updraft.core.db.models import DagRun, TaskInstance
from updraft.core.executors.workload import WorkloadResult
from updraft.core.runtime import run_store
from updraft.core.runtime.attempt import retry_delay
from updraft.core.runtime.task_log import attempt_log_path
from updraft.core.scheduler.dag_cache import DagCache
from updraft.sdk.states import TaskInstanceState as TI

log = logging.getLogger(__name__)
HOSTNAME = socket.gethostname()
Key = tuple[str, str, str, int]


def describe_exit(result: WorkloadResult) -> str:
    if result.timed_out:
        limit = f"{result.workload.timeout_s:g}s" if result.workload.timeout_s else "its limit"
        return f"the task ran past its execution_timeout of {limit} and its process was killed"
    if result.signal is not None:
        name = (
            signal.Signals(result.signal).name
            if result.signal in signal.Signals._value2member_map_
            else str(result.signal)
        )
        hint = " (out of memory, or killed from outside)" if result.signal == signal.SIGKILL else ""
        return f"the task's process was killed by {name}{hint}"
    return f"the task's process exited with code {result.exit_code} before recording a result"


def _append_log(key: Key, try_number: int, message: str) -> None:
    base = Path(conf.get("logging", "base_log_folder")).expanduser()
    path = attempt_log_path(base, key[0], key[1], key[2], key[3], try_number)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(
            f"[{datetime.now().astimezone().isoformat(timespec='milliseconds')}] {{scheduler}} ERROR - {message}\n"
        )


def fail_attempt(
    conn: Connection,
    cache: DagCache,
    key: Key,
    try_number: int,
    reason: str,
    now: datetime,
    cpu_time_s: float | None = None,
    peak_rss_bytes: int | None = None,
) -> bool:
    """Fail (or retry) an attempt that is still queued/running at ``try_number``; True if it was."""
    dag_id, run_id, task_id, map_index = key
    row = conn.execute(
        select(
            TaskInstance.state,
            TaskInstance.try_number,
            TaskInstance.max_tries,
            TaskInstance.start_date,
            TaskInstance.operator,
            TaskInstance.pool,
        ).where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == task_id,
            TaskInstance.map_index == map_index,
        )
    ).first()
    if row is None or row.try_number != try_number:
        return False
    if row.state == TI.RESTARTING.value:
        # Cleared while it ran: it runs again rather than failing.
        run_store.restart_if_cleared(conn, dag_id, run_id, task_id, map_index, try_number, now)
        return True
    if row.state not in (TI.RUNNING.value, TI.QUEUED.value):
        return False
    serialized_id = conn.scalar(
        select(DagRun.serialized_dag_id).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
    )
    dag = cache.get(conn, serialized_id) if serialized_id else None
    task = dag.task_dict.get(task_id) if dag is not None else None
    retriable = try_number <= row.max_tries
    next_retry_at = None
    if retriable:
        delay = retry_delay(task, try_number, dag_id, run_id) if task is not None else timedelta(seconds=300)
        next_retry_at = now + delay
    state = TI.UP_FOR_RETRY if retriable else TI.FAILED
    log.warning("%s.%s[%d] in %s: %s -> %s", dag_id, task_id, map_index, run_id, reason, state.value)
    _append_log(key, try_number, f"{reason}; marking the task {state.value}")
    return run_store.record_finish(
        conn,
        dag_id,
        run_id,
        task_id,
        map_index,
        try_number=try_number,
        state=state.value,
        start=row.start_date or now,
        end=now,
        next_retry_at=next_retry_at,
        error=reason,
        operator=row.operator,
        pool=row.pool,
        rendered_fields=None,
        cpu_time_s=cpu_time_s,
        peak_rss_bytes=peak_rss_bytes,
        from_states=(TI.RUNNING.value, TI.QUEUED.value),
    )


def handle_results(
    conn: Connection, cache: DagCache, results: list[WorkloadResult], now: datetime
) -> set[tuple[str, str]]:
    """Runs touched by finished attempts; attempts that died without a record are failed."""
    touched = {(r.workload.dag_id, r.workload.run_id) for r in results}
    # A process that exited normally recorded its outcome (or had nothing to do): no check needed.
    tasks = [r for r in results if r.workload.kind == "run_task" and (r.crashed or r.timed_out)]
    if not tasks:
        return touched
    # One query for all: only attempts still queued/running at their try died without a record.
    unfinished = set()
    for dag_id in {r.workload.dag_id for r in tasks}:
        rows = conn.execute(
            select(
                TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index, TaskInstance.try_number
            ).where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id.in_({r.workload.run_id for r in tasks if r.workload.dag_id == dag_id}),
                TaskInstance.state.in_([TI.RUNNING.value, TI.QUEUED.value, TI.RESTARTING.value]),
            )
        )
        unfinished |= {(dag_id, row.run_id, row.task_id, row.map_index, row.try_number) for row in rows}
    for result in tasks:
        workload = result.workload
        if (*workload.key, workload.try_number) in unfinished:
            fail_attempt(
                conn,
                cache,
                workload.key,
                workload.try_number,
                describe_exit(result),
                now,
                result.cpu_time_s,
                result.peak_rss_bytes,
            )
    return touched


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not reaped) counts as dead.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def find_lost_attempts(
    conn: Connection, cache: DagCache, tracked: set[Key], now: datetime
) -> set[tuple[str, str]]:
    """Running attempts nobody is watching whose process is gone or that stopped heartbeating."""
    timeout = timedelta(seconds=conf.getfloat("scheduler", "task_instance_heartbeat_timeout"))
    touched = set()
    rows = conn.execute(
        select(
            TaskInstance.dag_id,
            TaskInstance.run_id,
            TaskInstance.task_id,
            TaskInstance.map_index,
            TaskInstance.try_number,
            TaskInstance.hostname,
            TaskInstance.pid,
            TaskInstance.last_heartbeat_at,
        ).where(TaskInstance.state.in_([TI.RUNNING.value, TI.RESTARTING.value]))
    ).all()
    for row in rows:
        key = (row.dag_id, row.run_id, row.task_id, row.map_index)
        if key in tracked:
            continue
        reason = None
        if row.hostname == HOSTNAME and not _pid_alive(row.pid):
            reason = f"the task's process (pid {row.pid}) is gone without recording a result"
        elif row.last_heartbeat_at is not None and now - row.last_heartbeat_at > timeout:
            reason = f"the task stopped heartbeating (last at {row.last_heartbeat_at.isoformat()})"
        if reason and fail_attempt(conn, cache, key, row.try_number, reason, now):
            touched.add((row.dag_id, row.run_id))
    return touched


def requeue_orphans(conn: Connection, tracked: set[Key]) -> int:
    """Queued instances no executor of ours holds go back to scheduled (same try number)."""
    rows = conn.execute(
        select(
            TaskInstance.id,
            TaskInstance.dag_id,
            TaskInstance.run_id,
            TaskInstance.task_id,
            TaskInstance.map_index,
        ).where(TaskInstance.state == TI.QUEUED.value)
    ).all()
    orphan_ids = [r.id for r in rows if (r.dag_id, r.run_id, r.task_id, r.map_index) not in tracked]
    if orphan_ids:
        conn.execute(
            update(TaskInstance)
            .where(TaskInstance.id.in_(orphan_ids), TaskInstance.state == TI.QUEUED.value)
            .values(state=TI.SCHEDULED.value)
        )
    return len(orphan_ids)


def release_interrupted(conn: Connection, keys: set[Key]) -> None:
    """After a shutdown stopped these attempts, let them run again from scratch (like a clear)."""
    for dag_id, run_id, task_id, map_index in keys:
        conn.execute(
            update(TaskInstance)
            .where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.task_id == task_id,
                TaskInstance.map_index == map_index,
                TaskInstance.state.in_(
                    [TI.RUNNING.value, TI.QUEUED.value, TI.UP_FOR_RETRY.value, TI.FAILED.value]
                ),
            )
            .values(state=None, max_tries=TaskInstance.max_tries + 1, next_retry_at=None)
        )
