"""A small in-memory stand-in for updraft's task runtime, for operator tests.

``FakeTI`` implements the task-instance contract operators rely on (XCom push/pull in a dict,
``skip_downstream_tasks`` recording ids); ``make_context`` builds an Airflow-style context;
``run_task`` does what the runtime does around ``execute``: copy, render templates, execute,
push the return value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from updraft.sdk.macros import macros

LOGICAL_DATE = datetime(2024, 3, 5, 6, 7, 8, tzinfo=timezone.utc)
XComStore = dict[tuple[str, int, str], Any]


@dataclass
class FakeDagRun:
    dag_id: str
    run_id: str
    logical_date: datetime
    conf: dict[str, Any] = field(default_factory=dict)

    @property
    def data_interval_start(self) -> datetime:
        return self.logical_date

    @property
    def data_interval_end(self) -> datetime:
        return self.logical_date + timedelta(days=1)


class FakeTI:
    """The task-instance interface of the runtime contract, kept in memory."""

    def __init__(
        self, task: Any, run_id: str, xcoms: XComStore, map_index: int = -1, try_number: int = 1
    ) -> None:
        self.task = task
        self.task_id = task.task_id
        self.dag_id = task.dag_id
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = try_number
        self.max_tries = getattr(task, "retries", 0)
        self.xcoms = xcoms
        self.skipped: set[str] = set()
        self.skip_calls = 0

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[(self.task_id, self.map_index, key)] = value

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        key: str = "return_value",
        dag_id: str | None = None,
        map_indexes: int | None = None,
        default: Any = None,
    ) -> Any:
        def one(task_id: str) -> Any:
            index = -1 if map_indexes is None else map_indexes
            return self.xcoms.get((task_id, index, key), default)

        if task_ids is None:
            return one(self.task_id)
        if isinstance(task_ids, str):
            return one(task_ids)
        return [one(t) for t in task_ids]

    def skip_downstream_tasks(self, task_ids: Iterable[str]) -> None:
        self.skip_calls += 1
        self.skipped.update(task_ids)


def make_context(
    task: Any,
    *,
    xcoms: XComStore | None = None,
    conf: dict[str, Any] | None = None,
    logical_date: datetime = LOGICAL_DATE,
    map_index: int = -1,
) -> dict[str, Any]:
    dag = task.dag
    run_id = f"manual__{logical_date.isoformat()}"
    ti = FakeTI(task, run_id, xcoms if xcoms is not None else {}, map_index=map_index)
    params: dict[str, Any] = {}
    if dag is not None:
        params.update(dag.params.validate())
    params.update(task.params.validate())
    params.update(conf or {})
    dag_run = FakeDagRun(task.dag_id, run_id, logical_date, dict(conf or {}))
    ds = logical_date.strftime("%Y-%m-%d")
    return {
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "run_id": run_id,
        "dag_run": dag_run,
        "logical_date": logical_date,
        "ds": ds,
        "ds_nodash": ds.replace("-", ""),
        "ts": logical_date.isoformat(),
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": logical_date.isoformat().replace("-", "").replace(":", ""),
        "data_interval_start": dag_run.data_interval_start,
        "data_interval_end": dag_run.data_interval_end,
        "prev_data_interval_start_success": None,
        "params": params,
        "conf": {},
        "macros": macros,
        "var": {"value": {}, "json": {}},
        "conn": None,
        "map_index_template": None,
        "test_mode": True,
        "inlets": [],
        "outlets": [],
    }


@dataclass
class Outcome:
    result: Any
    ti: FakeTI
    context: dict[str, Any]
    task: Any


def run_task(task: Any, *, xcoms: XComStore | None = None, **kwargs: Any) -> Outcome:
    """Render and execute ``task`` as the runtime would, pushing its return value."""
    copy = task.prepare_for_execution()
    context = make_context(copy, xcoms=xcoms, **kwargs)
    copy.render_template_fields(context)
    result = copy.execute(context)
    ti = context["ti"]
    if copy.do_xcom_push and result is not None:
        ti.xcom_push("return_value", result)
        if copy.multiple_outputs and isinstance(result, dict):
            for key, value in result.items():
                ti.xcom_push(key, value)
    return Outcome(result, ti, context, copy)
