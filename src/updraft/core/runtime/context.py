"""The template/execute context of a task instance: Airflow's keys, with the same meanings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from updraft.core.config import conf as updraft_conf
from updraft.core.connections import ConnectionAccessor
from updraft.core.db.asset_events import asset_event_history
from updraft.core.variables import VariableAccessor
from updraft.sdk.assets import Asset, InletEventsAccessors, TriggeringAssetEvent, TriggeringAssetEvents
from updraft.sdk.params import ParamsDict, merge_conf_into_params

if TYPE_CHECKING:
    from updraft.core.runtime.task_instance import RuntimeTaskInstance
    from updraft.sdk.abstractoperator import AbstractOperator
    from updraft.sdk.dag import DAG

_VAR = VariableAccessor()
_CONN = ConnectionAccessor()


class RunConf(dict):  # type: ignore[type-arg]
    """The run's conf, as ``{{ conf }}``: a dict of the run's conf values.

    Airflow templates also use ``conf.get("section", "key")`` for configuration; that form
    still works when the first argument is not a conf key.
    """

    _MISSING: Any = object()

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        if key in self:
            return self[key]
        if isinstance(key, str) and isinstance(default, str) and updraft_conf.has_option(key, default):
            return updraft_conf.get(key, default)
        return default


class Context(dict):  # type: ignore[type-arg]
    """A dict of context values; a missing key names what is available."""

    def __missing__(self, key: str) -> Any:
        raise KeyError(f"{key!r} is not in the task context; available keys: {', '.join(sorted(self))}")


def _ds(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value else None


def task_params(
    task: AbstractOperator, dag: DAG, run_params: dict[str, Any], conf: dict[str, Any] | None
) -> dict[str, Any]:
    """The params ``task`` sees: the DAG's, then the task's own, then the run's conf (Airflow's order).

    ``run_params`` (the DAG's params with the conf over them, validated when the run was created)
    serve every task that has no params of its own. Raises ParamValidationError naming the param.
    """
    own = getattr(task, "params", None)
    if not own:
        return run_params
    layered = ParamsDict(dag.params)
    layered.update(own if isinstance(own, ParamsDict) else ParamsDict(own))
    return merge_conf_into_params(layered, conf)


def _history_reader(ti: RuntimeTaskInstance) -> Any:
    def read(item: Asset) -> list[TriggeringAssetEvent]:
        with ti.xcoms.engine.connect() as conn:
            return asset_event_history(conn, item)

    return read


def build_context(
    task: AbstractOperator,
    ti: RuntimeTaskInstance,
    params: dict[str, Any],
    prev_success: dict[str, datetime | None] | None = None,
    test_mode: bool = False,
) -> Context:
    """Everything a task can read: dates, params, ti, dag_run, macros, var, conn, ..."""
    from updraft.sdk.macros import macros

    run = ti.dag_run
    logical_date = run.logical_date
    ds = _ds(logical_date)
    ts = logical_date.isoformat() if logical_date else None
    ds_nodash = ds.replace("-", "") if ds else None
    ts_nodash = logical_date.strftime("%Y%m%dT%H%M%S") if logical_date else None
    context = Context(
        dag=ti.dag,
        task=task,
        ti=ti,
        task_instance=ti,
        run_id=run.run_id,
        dag_run=run,
        conf=RunConf(run.conf or {}),
        params=task_params(task, ti.dag, params, run.conf),
        logical_date=logical_date,
        data_interval_start=run.data_interval_start,
        data_interval_end=run.data_interval_end,
        ds=ds,
        ds_nodash=ds_nodash,
        ts=ts,
        ts_nodash=ts_nodash,
        ts_nodash_with_tz=ts.replace("-", "").replace(":", "") if ts else None,
        task_instance_key_str=f"{ti.dag_id}__{task.task_id}__{ds_nodash}",
        macros=macros,
        var=_VAR,
        conn=_CONN,
        inlets=getattr(task, "inlets", []),
        outlets=getattr(task, "outlets", []),
        map_index_template=getattr(task, "map_index_template", None),
        test_mode=test_mode,
        triggering_asset_events=(triggering := TriggeringAssetEvents(run.triggering_asset_events)),
        triggering_dataset_events=triggering.by_uri(),  # Airflow 2: keyed by URI
        outlet_events=ti.outlet_events,
        inlet_events=InletEventsAccessors(getattr(task, "inlets", None) or [], _history_reader(ti)),
        expanded_ti_count=None,
    )
    prev = prev_success or {}
    for key in (
        "prev_data_interval_start_success",
        "prev_data_interval_end_success",
        "prev_start_date_success",
        "prev_end_date_success",
    ):
        context[key] = prev.get(key)
    _add_airflow2_dates(context, logical_date)
    return context


def _neighbour_ticks(dag: Any, logical_date: datetime) -> tuple[datetime | None, datetime | None]:
    timetable = getattr(dag, "timetable", None)
    step_forward = getattr(timetable, "_get_next", None)
    step_back = getattr(timetable, "_get_prev", None)
    if step_forward is None or step_back is None:
        return None, None
    return step_forward(logical_date), step_back(logical_date)


def _add_airflow2_dates(context: Context, logical_date: datetime | None) -> None:
    """Airflow 2 names (execution_date, next_ds, yesterday_ds, ...), still used by old DAGs."""
    context["execution_date"] = logical_date
    if logical_date is None:
        return
    interval_end = context["data_interval_end"]
    interval_start = context["data_interval_start"]
    next_date = interval_end if interval_end and interval_end != logical_date else None
    prev_date = (
        logical_date - (interval_end - interval_start)
        if interval_end and interval_start and interval_end != interval_start
        else None
    )
    if next_date is None and prev_date is None:
        # A trigger timetable (Airflow 3's default for cron and timedelta schedules) has no interval:
        # the neighbouring schedule ticks are what Airflow 2 called next/prev execution dates.
        next_date, prev_date = _neighbour_ticks(context["dag"], logical_date)
    context["next_execution_date"] = next_date
    context["prev_execution_date"] = prev_date
    next_ds, prev_ds = _ds(next_date), _ds(prev_date)
    context["next_ds"] = next_ds
    context["next_ds_nodash"] = next_ds.replace("-", "") if next_ds else None
    context["prev_ds"] = prev_ds
    context["prev_ds_nodash"] = prev_ds.replace("-", "") if prev_ds else None
    yesterday = _ds(logical_date - timedelta(days=1))
    tomorrow = _ds(logical_date + timedelta(days=1))
    context["yesterday_ds"] = yesterday
    context["yesterday_ds_nodash"] = yesterday.replace("-", "") if yesterday else None
    context["tomorrow_ds"] = tomorrow
    context["tomorrow_ds_nodash"] = tomorrow.replace("-", "") if tomorrow else None
