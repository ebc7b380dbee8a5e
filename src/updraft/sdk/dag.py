"""The ``DAG``: its schedule, arguments, tasks and edges, and the checks run when a DAG file loads."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from updraft.sdk import contexts
from updraft.sdk.abstractoperator import AbstractOperator, validate_key
from updraft.sdk.default_args_check import warn_unused_default_args
from updraft.sdk.exceptions import DagCycleError, DagDefinitionError, DuplicateTaskIdError
from updraft.sdk.settings import settings
from updraft.sdk.taskgroup import TaskGroup

if TYPE_CHECKING:
    from updraft.sdk.params import ParamsDict
    from updraft.sdk.timetables import Timetable

_UNSET: Any = object()
_SDK_DIR = str(Path(__file__).resolve().parent.parent)


def _caller_file() -> str:
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_SDK_DIR) and "importlib" not in filename and filename[0] != "<":
            return filename
        frame = frame.f_back  # type: ignore[assignment]
    return ""


def ensure_aware(value: datetime | None, tz: tzinfo) -> datetime | None:
    """Attach ``tz`` to a naive datetime (Airflow treats naive dates as the default time zone)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def _as_callbacks(value: Any, name: str, dag_id: str) -> list[Callable[..., Any]]:
    if value is None:
        return []
    callbacks = list(value) if isinstance(value, (list, tuple)) else [value]
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"DAG {dag_id!r}: {name} must be callable, got {callback!r}")
    return callbacks


class DAG:
    """A DAG: tasks and their dependencies, with a schedule. Use as ``with DAG(...) as dag:``."""

    def __init__(
        self,
        dag_id: str,
        description: str | None = None,
        schedule: Any = _UNSET,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        catchup: bool | None = None,
        default_args: dict[str, Any] | None = None,
        tags: Collection[str] | None = None,
        params: dict[str, Any] | None = None,
        max_active_runs: int = 16,
        max_active_tasks: int = 16,
        dagrun_timeout: timedelta | None = None,
        on_success_callback: Any = None,
        on_failure_callback: Any = None,
        doc_md: str | None = None,
        template_searchpath: str | Iterable[str] | None = None,
        template_undefined: type | None = None,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Callable[..., Any]] | None = None,
        render_template_as_native_obj: bool = False,
        jinja_environment_kwargs: dict[str, Any] | None = None,
        is_paused_upon_creation: bool | None = None,
        max_consecutive_failed_dag_runs: int = 0,
        owner_links: dict[str, str] | None = None,
        dag_display_name: str | None = None,
        access_control: Any = None,
        fail_fast: bool = False,
        auto_register: bool = True,
        schedule_interval: Any = _UNSET,
        timetable: Any = _UNSET,
        concurrency: int | None = None,
        fileloc: str | None = None,
        sla_miss_callback: Any = None,
    ) -> None:
        validate_key("dag_id", dag_id)
        self.dag_id = dag_id
        self.fileloc = fileloc or _caller_file()
        self.description = description
        self.default_args = dict(default_args or {})
        if start_date is None and "start_date" in self.default_args:
            start_date = self.default_args["start_date"]
        if end_date is None and "end_date" in self.default_args:
            end_date = self.default_args["end_date"]
        tz = settings.default_timezone
        if isinstance(start_date, datetime) and start_date.tzinfo is not None:
            tz = start_date.tzinfo
        self.timezone: tzinfo = tz
        self.start_date = ensure_aware(start_date, tz)
        self.end_date = ensure_aware(end_date, tz)
        self.catchup = bool(catchup) if catchup is not None else False
        self.tags: list[str] = sorted(set(tags or []))
        for tag in self.tags:
            if not isinstance(tag, str) or len(tag) > 100:
                raise DagDefinitionError(f"DAG {dag_id!r}: tag {tag!r} must be a string of at most 100 chars")
        from updraft.sdk.params import ParamsDict

        # As in Airflow, default_args["params"] are merged over `params` and leave default_args.
        merged_params = dict(params or {})
        merged_params.update(self.default_args.pop("params", None) or {})
        self.params: ParamsDict = ParamsDict(merged_params)
        self.max_active_runs = max_active_runs
        self.max_active_tasks = concurrency if concurrency is not None else max_active_tasks
        # SLAs are gone in Airflow 3 and Updraft never had them: an Airflow 2 file's callback is unused.
        del sla_miss_callback
        self.dagrun_timeout = dagrun_timeout
        self.on_success_callback = _as_callbacks(on_success_callback, "on_success_callback", dag_id)
        self.on_failure_callback = _as_callbacks(on_failure_callback, "on_failure_callback", dag_id)
        self.doc_md = doc_md
        if isinstance(template_searchpath, str):
            template_searchpath = [template_searchpath]
        self.template_searchpath: list[str] | None = (
            list(template_searchpath) if template_searchpath is not None else None
        )
        self.template_undefined = template_undefined
        self.user_defined_macros = user_defined_macros
        self.user_defined_filters = user_defined_filters
        self.render_template_as_native_obj = render_template_as_native_obj
        self.jinja_environment_kwargs = jinja_environment_kwargs
        self.is_paused_upon_creation = is_paused_upon_creation
        self.max_consecutive_failed_dag_runs = max_consecutive_failed_dag_runs
        self.owner_links = owner_links or {}
        self.dag_display_name = dag_display_name or dag_id
        self.access_control = access_control
        self.fail_fast = fail_fast

        self.schedule = self._pick_schedule(schedule, schedule_interval, timetable)
        self.timetable: Timetable = self._make_timetable(self.schedule)

        self.task_dict: dict[str, AbstractOperator] = {}
        #: Problems found when the DAG file loaded that do not stop it from running (see validate()).
        self.warnings: list[str] = []
        self.task_group = TaskGroup(None, dag=self)
        self.edge_info: dict[tuple[str, str], dict[str, Any]] = {}
        self._jinja_env: Any = None
        self.auto_register = auto_register

    # -- schedule ------------------------------------------------------------------------------

    def _pick_schedule(self, schedule: Any, schedule_interval: Any, timetable: Any) -> Any:
        given = [v for v in (schedule, schedule_interval, timetable) if v is not _UNSET]
        if len(given) > 1:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: pass only one of schedule, schedule_interval and timetable"
            )
        return given[0] if given else None

    def _make_timetable(self, schedule: Any) -> Timetable:
        from updraft.sdk.timetables import create_timetable

        try:
            return create_timetable(
                schedule,
                timezone=self.timezone,
                create_cron_data_intervals=settings.create_cron_data_intervals,
                create_delta_data_intervals=settings.create_delta_data_intervals,
            )
        except DagDefinitionError as exc:
            raise DagDefinitionError(f"DAG {self.dag_id!r}: {exc}") from None

    # -- tasks ---------------------------------------------------------------------------------

    def add_task(self, task: AbstractOperator) -> None:
        existing = self.task_dict.get(task.task_id)
        if existing is not None and existing is not task:
            first = f" (first defined at {existing.created_at})" if existing.created_at else ""
            raise DuplicateTaskIdError(
                f"DAG {self.dag_id!r}: task_id {task.task_id!r} is used twice{first}; "
                "every task in a DAG needs its own task_id"
            )
        if task.task_group is None:
            task.task_group = self.task_group
        self.task_dict[task.task_id] = task

    def add_tasks(self, tasks: Iterable[AbstractOperator]) -> None:
        for task in tasks:
            task.dag = self

    @property
    def tasks(self) -> list[AbstractOperator]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    @property
    def task_count(self) -> int:
        return len(self.task_dict)

    def get_task(self, task_id: str) -> AbstractOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise KeyError(f"DAG {self.dag_id!r} has no task {task_id!r}") from None

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    @property
    def roots(self) -> list[AbstractOperator]:
        return [t for t in self.task_dict.values() if not t.upstream_task_ids]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [t for t in self.task_dict.values() if not t.downstream_task_ids]

    @property
    def owner(self) -> str:
        return ", ".join(sorted({t.owner for t in self.task_dict.values()})) or settings.default_owner  # type: ignore[attr-defined]

    @property
    def folder(self) -> str:
        return str(Path(self.fileloc).parent) if self.fileloc else "."

    def set_edge_info(self, upstream_id: str, downstream_id: str, info: dict[str, Any]) -> None:
        self.edge_info[(upstream_id, downstream_id)] = dict(info)

    def get_edge_info(self, upstream_id: str, downstream_id: str) -> dict[str, Any]:
        return self.edge_info.get((upstream_id, downstream_id), {})

    def param(self, name: str, default: Any = None) -> Any:
        """A reference to a DAG param, resolved when a task runs (used by ``@dag`` arguments)."""
        from updraft.sdk.xcom_arg import DagParam

        return DagParam(self, name, default)

    # -- checks --------------------------------------------------------------------------------

    def topological_sort(self) -> list[AbstractOperator]:
        """Tasks with every upstream before its downstream; raises DagCycleError on a cycle."""
        tasks = self.task_dict
        indegree = {task_id: len(task.upstream_task_ids) for task_id, task in tasks.items()}
        ready = [task_id for task_id, count in indegree.items() if count == 0]
        order: list[AbstractOperator] = []
        while ready:
            task_id = ready.pop()
            order.append(tasks[task_id])
            for down in sorted(tasks[task_id].downstream_task_ids, reverse=True):
                indegree[down] -= 1
                if indegree[down] == 0:
                    ready.append(down)
        if len(order) != len(tasks):
            cycle = self._find_cycle({t for t, c in indegree.items() if c > 0})
            raise DagCycleError(f"DAG {self.dag_id!r} has a dependency cycle: {' >> '.join(cycle)}")
        return order

    def _find_cycle(self, candidates: set[str]) -> list[str]:
        """One cycle among tasks that a topological sort could not place, as a closed path."""
        tasks = self.task_dict
        start = min(candidates)
        path: list[str] = []
        position: dict[str, int] = {}
        node = start
        while node not in position:
            position[node] = len(path)
            path.append(node)
            node = min(d for d in tasks[node].downstream_task_ids if d in candidates)
        return [*path[position[node] :], node]

    def validate(self) -> None:
        """Checks that need the whole DAG: a cycle, tasks that reference missing tasks."""
        for task in self.task_dict.values():
            for relative in task.upstream_task_ids | task.downstream_task_ids:
                if relative not in self.task_dict:
                    raise DagDefinitionError(
                        f"DAG {self.dag_id!r}: task {task.task_id!r} depends on {relative!r}, "
                        "which is not in this DAG"
                    )
        self.topological_sort()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: end_date {self.end_date} is before start_date {self.start_date}"
            )
        self.warnings = warn_unused_default_args(self)

    # -- context manager -----------------------------------------------------------------------

    def __enter__(self) -> DAG:
        # As in Airflow, a DAG used as a context manager is found even without a global name.
        if self.auto_register:
            contexts.track_creation(self)
        contexts.push_dag(self)
        return self

    def __exit__(self, *exc: object) -> None:
        contexts.pop_dag()

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"

    def __hash__(self) -> int:
        return id(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> DAG:
        # DAG objects are shared, never copied (default_args deep copies must not clone the DAG).
        return self
