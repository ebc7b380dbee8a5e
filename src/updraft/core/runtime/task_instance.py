"""The ``ti`` object a running task sees: identity, try number, XCom push/pull, downstream skips."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from updraft.sdk.assets import OutletEventAccessors, TriggeringAssetEvent
from updraft.sdk.xcom_arg import RETURN_VALUE_KEY

if TYPE_CHECKING:
    from updraft.core.runtime.xcom_store import XComStore
    from updraft.sdk.abstractoperator import AbstractOperator
    from updraft.sdk.dag import DAG

_MISSING: Any = object()


@dataclass
class RunInfo:
    """The DAG run a task instance belongs to (``context["dag_run"]``)."""

    dag_id: str
    run_id: str
    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_after: datetime | None
    run_type: str
    conf: dict[str, Any]
    start_date: datetime | None = None
    end_date: datetime | None = None
    #: "running" while the task runs; the try's outcome once it ended (what callbacks see).
    state: str = "running"
    id: int | None = None
    #: The asset events an asset-triggered run consumed (read when its task starts), oldest first.
    triggering_asset_events: list[TriggeringAssetEvent] = field(default_factory=list)

    @property
    def execution_date(self) -> datetime | None:
        return self.logical_date

    @property
    def external_trigger(self) -> bool:
        return self.run_type == "manual"


@dataclass
class RuntimeTaskInstance:
    """What ``context["ti"]`` is while a task runs."""

    task: AbstractOperator
    dag: DAG
    dag_run: RunInfo
    map_index: int
    try_number: int
    max_tries: int
    xcoms: XComStore
    start_date: datetime | None = None
    end_date: datetime | None = None
    #: "running" while the task runs; the try's outcome once it ended (what callbacks see).
    state: str = "running"
    hostname: str = field(default_factory=socket.gethostname)
    #: XComs pushed during this attempt (key -> encoded JSON), written when the attempt ends.
    pushed: dict[str, str] = field(default_factory=dict)
    #: Task ids the task asked to skip (branching, short-circuit), applied when it succeeds.
    skipped_downstream: set[str] = field(default_factory=set)
    #: ``outlet_events``: the extra data the task attached to the asset events it will emit.
    outlet_events: OutletEventAccessors = field(default_factory=OutletEventAccessors)

    @property
    def task_id(self) -> str:
        return self.task.task_id

    @property
    def dag_id(self) -> str:
        return self.dag.dag_id

    @property
    def run_id(self) -> str:
        return self.dag_run.run_id

    @property
    def logical_date(self) -> datetime | None:
        return self.dag_run.logical_date

    execution_date = logical_date

    @property
    def operator(self) -> str:
        return type(self.task).__name__

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        return (self.dag_id, self.task_id, self.run_id, self.try_number, self.map_index)

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger("updraft.task")

    def get_dagrun(self) -> RunInfo:
        return self.dag_run

    def xcom_push(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` for this task instance (written when the attempt ends)."""
        if not isinstance(key, str) or not key:
            raise ValueError(f"XCom key must be a non-empty string, got {key!r}")
        self.pushed[key] = self.xcoms.encode(value)

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str = RETURN_VALUE_KEY,
        include_prior_dates: bool = False,
        map_indexes: int | Iterable[int] | None = None,
        default: Any = None,
        run_id: str | None = None,
    ) -> Any:
        """Airflow's ``xcom_pull``: one task id gives one value (a list for a mapped task)."""
        if task_ids is None:
            task_ids = self.task_id
        if isinstance(task_ids, str):
            return self._pull_one(task_ids, dag_id, key, map_indexes, default, run_id)
        values = []
        for task_id in task_ids:
            value = self._pull_one(task_id, dag_id, key, map_indexes, _MISSING, run_id)
            if value is not _MISSING:
                values.append(value)
        return values

    def _pull_one(
        self, task_id: str, dag_id: str | None, key: str, map_indexes: Any, default: Any, run_id: str | None
    ) -> Any:
        dag_id = dag_id or self.dag_id
        run_id = run_id or self.run_id
        if task_id == self.task_id and dag_id == self.dag_id and run_id == self.run_id and key in self.pushed:
            from updraft.sdk import serde

            return serde.decode(self.pushed[key])
        if isinstance(map_indexes, int):
            return self.xcoms.get_one(dag_id, run_id, task_id, map_indexes, key, default)
        if map_indexes is not None:
            return self.xcoms.get_mapped(dag_id, run_id, task_id, key, map_indexes)
        task = self.dag.task_dict.get(task_id) if dag_id == self.dag_id else None
        if task is not None and task.is_mapped:
            group = task.mapped_task_group
            if group is not None and self.map_index >= 0 and self.task.mapped_task_group is group:
                # Both tasks are in one mapped task group: instance i reads instance i.
                return self.xcoms.get_one(dag_id, run_id, task_id, self.map_index, key, default)
            return self.xcoms.get_mapped(dag_id, run_id, task_id, key)
        return self.xcoms.get_one(dag_id, run_id, task_id, -1, key, default)

    def skip_downstream_tasks(self, task_ids: Iterable[str]) -> None:
        """Ask for these tasks to be skipped once this task succeeds (used by branching)."""
        self.skipped_downstream.update(task_ids)

    def __repr__(self) -> str:
        index = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"<TaskInstance: {self.dag_id}.{self.task_id}{index} {self.run_id} try {self.try_number}>"
