"""The message an executor receives to run one task attempt: identity only, never code."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Workload kinds: run one task attempt, or run a DAG's success/failure callbacks.
RUN_TASK = "run_task"
DAG_CALLBACK = "dag_callback"


@dataclass(frozen=True)
class Workload:
    """Which task instance (and which try) to run, and where its DAG file is."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    fileloc: str
    kind: str = RUN_TASK
    #: For DAG callbacks: "success" or "task_failure".
    reason: str | None = None
    #: Seconds the task may run before its process is killed (execution_timeout), if any.
    timeout_s: float | None = None

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.dag_id, self.run_id, self.task_id, self.map_index)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Workload:
        return cls(**data)


@dataclass(frozen=True)
class WorkloadResult:
    """What became of a workload's process (its state in the DB is the task's own record)."""

    workload: Workload
    pid: int
    exit_code: int | None
    signal: int | None
    cpu_time_s: float
    peak_rss_bytes: int
    timed_out: bool = False

    @property
    def crashed(self) -> bool:
        return self.signal is not None or (self.exit_code not in (0, None))
