"""Choosing which scheduled task instances start now, within every limit, highest priority first.

Limits: ``core.parallelism`` (free executor slots), pool slots, a DAG's ``max_active_tasks``,
a task's ``max_active_tis_per_dag`` and ``max_active_tis_per_dagrun``. Counting uses one grouped
query per limit; the chosen instances move to ``queued`` in one statement.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from updraft.core.db.models import DagModel, DagRun, Pool, TaskInstance
from updraft.core.executors.workload import Workload
from updraft.core.scheduler.dag_cache import DagCache
from updraft.sdk.states import DagRunState
from updraft.sdk.states import TaskInstanceState as TI

log = logging.getLogger(__name__)
OCCUPYING = (TI.QUEUED.value, TI.RUNNING.value)
_warned_pools: set[str] = set()


def queue_runnable(
    conn: Connection,
    cache: DagCache,
    now: datetime,
    free_slots: int,
    pool_sizes: dict[str, int] | None = None,
    scope: set[tuple[str, str]] | None = None,
) -> list[Workload]:
    """Queue what may start now (with a ``scope``: only those runs, paused DAG or not)."""
    if free_slots <= 0:
        return []
    query = (
        select(
            TaskInstance.id,
            TaskInstance.dag_id,
            TaskInstance.run_id,
            TaskInstance.task_id,
            TaskInstance.map_index,
            TaskInstance.try_number,
            TaskInstance.pool,
            TaskInstance.pool_slots,
            DagRun.serialized_dag_id,
            DagModel.fileloc,
            DagModel.max_active_tasks,
        )
        .join(DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id))
        .join(DagModel, DagModel.dag_id == TaskInstance.dag_id)
        .where(TaskInstance.state == TI.SCHEDULED.value, DagRun.state == DagRunState.RUNNING.value)
        .order_by(TaskInstance.priority_weight.desc(), DagRun.run_after, DagRun.id, TaskInstance.map_index)
        .limit(max(free_slots * 4, 128))
    )
    if scope is None:
        query = query.where(DagModel.is_paused.is_(False))
    else:
        query = query.where(TaskInstance.dag_id.in_({dag_id for dag_id, _ in scope}))
    candidates = [row for row in conn.execute(query) if scope is None or (row.dag_id, row.run_id) in scope]
    if not candidates:
        return []
    sizes = pool_sizes if pool_sizes is not None else read_pool_sizes(conn)
    pool_used: dict[str, int] = defaultdict(int)
    per_dag: dict[str, int] = defaultdict(int)
    per_task: dict[tuple[str, str], int] = defaultdict(int)
    per_run_task: dict[tuple[str, str, str], int] = defaultdict(int)
    for counted in conn.execute(
        select(
            TaskInstance.dag_id,
            TaskInstance.run_id,
            TaskInstance.task_id,
            TaskInstance.pool,
            func.count().label("n"),
            func.sum(TaskInstance.pool_slots).label("slots"),
        )
        .where(TaskInstance.state.in_(OCCUPYING))
        .group_by(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.pool)
    ):
        pool_used[counted.pool] += int(counted.slots or 0)
        per_dag[counted.dag_id] += counted.n
        per_task[(counted.dag_id, counted.task_id)] += counted.n
        per_run_task[(counted.dag_id, counted.run_id, counted.task_id)] += counted.n
    pool_open = {name: (10**9 if total < 0 else total - pool_used[name]) for name, total in sizes.items()}
    chosen: list[int] = []
    workloads: list[Workload] = []
    for row in candidates:
        if len(chosen) >= free_slots:
            break
        dag = cache.get(conn, row.serialized_dag_id) if row.serialized_dag_id else None
        task = dag.task_dict.get(row.task_id) if dag is not None else None
        if row.pool not in pool_open:
            if row.pool not in _warned_pools:
                _warned_pools.add(row.pool)
                log.warning(
                    "task %s.%s uses pool %r, which does not exist; it waits until the pool is created",
                    row.dag_id,
                    row.task_id,
                    row.pool,
                )
            continue
        if pool_open[row.pool] < row.pool_slots:
            continue
        if per_dag[row.dag_id] >= (row.max_active_tasks or 16):
            continue
        if task is not None:
            if (
                task.max_active_tis_per_dag
                and per_task[(row.dag_id, row.task_id)] >= task.max_active_tis_per_dag
            ):
                continue
            if (
                task.max_active_tis_per_dagrun
                and per_run_task[(row.dag_id, row.run_id, row.task_id)] >= task.max_active_tis_per_dagrun
            ):
                continue
        pool_open[row.pool] -= row.pool_slots
        per_dag[row.dag_id] += 1
        per_task[(row.dag_id, row.task_id)] += 1
        per_run_task[(row.dag_id, row.run_id, row.task_id)] += 1
        chosen.append(row.id)
        timeout = (
            task.execution_timeout.total_seconds() if task is not None and task.execution_timeout else None
        )
        workloads.append(
            Workload(
                dag_id=row.dag_id,
                run_id=row.run_id,
                task_id=row.task_id,
                map_index=row.map_index,
                try_number=row.try_number,
                fileloc=row.fileloc or (dag.fileloc if dag else ""),
                timeout_s=timeout,
            )
        )
    if chosen:
        conn.execute(
            update(TaskInstance)
            .where(TaskInstance.id.in_(chosen), TaskInstance.state == TI.SCHEDULED.value)
            .values(state=TI.QUEUED.value, queued_dttm=now, updated_at=now)
        )
    return workloads


def read_pool_sizes(conn: Connection) -> dict[str, int]:
    """Slots of every pool (-1: unlimited)."""
    return {row.pool: row.slots for row in conn.execute(select(Pool.pool, Pool.slots))}
