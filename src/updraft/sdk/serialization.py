"""The stored JSON form of a DAG (``serialize_dag``, ``dag_hash``), its reader, and task priorities.

The DAG processor serializes each DAG in the child that imported the user's file; the scheduler and
web server only read that JSON, through ``deserialize_dag``'s light read-only objects named like the
authoring ones. No pickles, no user code: a non-JSON value is stored as a readable string, callbacks
as "has one" flags. The output is deterministic (sorted ids, no memory addresses), so an unchanged
DAG hashes the same in every process."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from updraft.sdk.assets import Asset, asset_outlets, decode_asset, encode_asset
from updraft.sdk.dag import ensure_aware
from updraft.sdk.exceptions import DagCycleError, UpdraftException
from updraft.sdk.mapping import DictOfListsExpandInput, MappedOperator
from updraft.sdk.params import ParamsDict
from updraft.sdk.serde import encode_timezone, parse_timezone
from updraft.sdk.timetables import Timetable, describe_schedule, deserialize_timetable, serialize_timetable
from updraft.sdk.trigger_rule import TriggerRule
from updraft.sdk.xcom_arg import PlainXComArg, XComArg

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG

__all__ = [
    "MAX_REPR_CHARS", "SERIALIZATION_VERSION", "DagSerializationError", "SerializedDag", "SerializedTask",
    "SerializedTaskGroup", "dag_hash", "deserialize_dag", "priority_weights", "serialize_dag",
]  # fmt: skip

SERIALIZATION_VERSION = 1
MAX_REPR_CHARS = 10_000
_CALLBACKS = ("execute", "success", "failure", "retry", "skipped")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SCALARS = (str, int, bool, type(None))
_SKIP: Any = object()
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class DagSerializationError(UpdraftException):
    """A DAG could not be written to, or read back from, its stored JSON form."""


def _json_or(value: Any, default: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), or ``default`` if it is not JSON."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict) and not all(isinstance(key, str) for key in value):
        return default  # json.dumps would store these keys as strings
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return default


def _repr(value: Any, depth: int = 0) -> str:
    """A ``repr`` that is the same in every process: sets sorted, no memory addresses."""
    if depth > 20:
        return "..."
    if isinstance(value, XComArg):  # XComArg('extract'), ZipXComArg(XComArg('a'), XComArg('b'))...
        refs = ", ".join(repr(ref) for ref in value.iter_plain())
        return repr(value) if isinstance(value, PlainXComArg) else f"{type(value).__name__}({refs})"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_repr(v, depth + 1) for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        if isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return "{" + ", ".join(sorted(items)) + "}" if items else "set()"
    if isinstance(value, dict):
        pairs = (f"{_repr(k, depth + 1)}: {_repr(v, depth + 1)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    try:
        return _ADDRESS.sub("", repr(value))
    except Exception:  # noqa: BLE001 - a user's __repr__ may raise anything
        return f"<{type(value).__name__} object>"


def _safe(value: Any) -> Any:
    """``value`` as JSON when it is JSON-compatible, else its readable string (at most 10 kB)."""
    if (out := _json_or(value, _SKIP)) is not _SKIP:
        return out
    text = _repr(value)
    return text if len(text) <= MAX_REPR_CHARS else text[: MAX_REPR_CHARS - 3] + "..."


def _seconds(value: Any) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else None if value is None else float(value)


def _delta(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _iso(value: datetime | None, tz: tzinfo) -> str | None:
    return None if (aware := ensure_aware(value, tz)) is None else aware.isoformat()


def dag_hash(data: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``serialize_dag``'s output: equal for an unchanged DAG."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(slots=True, eq=False)
class SerializedTask:
    """A task as the scheduler and web server see it: its arguments, dependencies and flags."""

    task_id: str
    label: str = ""
    operator_name: str = ""  # custom_operator_name or the class name; "operator" in the JSON
    task_type: str = ""
    operator_module: str = ""
    task_group: SerializedTaskGroup | None = None
    upstream_task_ids: set[str] = field(default_factory=set)
    downstream_task_ids: set[str] = field(default_factory=set)
    trigger_rule: TriggerRule = TriggerRule.ALL_SUCCESS
    retry_delay: timedelta = timedelta(seconds=300)
    max_retry_delay: timedelta | None = None
    execution_timeout: timedelta | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    retries: int = 0  # from here to ui_fgcolor: stored as they are
    retry_exponential_backoff: bool | float = False
    pool: str = "default_pool"
    pool_slots: int = 1
    priority_weight: int = 1
    weight_rule: str = "downstream"
    queue: str = "default"
    owner: str = "airflow"
    depends_on_past: bool = False
    wait_for_downstream: bool = False
    ignore_first_depends_on_past: bool = True
    wait_for_past_depends_before_skipping: bool = False
    do_xcom_push: bool = True
    multiple_outputs: bool = False
    email: Any = None
    email_on_failure: bool = True
    email_on_retry: bool = True
    max_active_tis_per_dag: int | None = None
    max_active_tis_per_dagrun: int | None = None
    executor: str | None = None
    doc_md: str | None = None
    ui_color: str = "#fff"
    ui_fgcolor: str = "#000"
    is_setup: bool = False
    is_teardown: bool = False
    on_failure_fail_dagrun: bool = False
    has_on_execute_callback: bool = False
    has_on_success_callback: bool = False
    has_on_failure_callback: bool = False
    has_on_retry_callback: bool = False
    has_on_skipped_callback: bool = False
    is_empty: bool = False  # an EmptyOperator with no callbacks or outlets: needs no worker
    is_sensor: bool = False
    template_fields: list[str] = field(default_factory=list)
    template_ext: list[str] = field(default_factory=list)
    template_fields_renderers: dict[str, str] = field(default_factory=dict)
    template_values: dict[str, Any] = field(default_factory=dict)  # unrendered: JSON, else a string
    is_mapped: bool = False
    expand_kind: str | None = None  # "dict_of_lists" (expand) or "list_of_dicts" (expand_kwargs)
    expand_names: list[str] = field(default_factory=list)
    expand_value: Any = None  # literal values (per name for dict_of_lists); None: XComArg or not JSON
    expansion_upstream_task_ids: list[str] = field(default_factory=list)
    #: The mapped task group the task expands with (its instance i follows instance i of the
    #: group's other tasks); None for a task mapped on its own or not mapped.
    mapped_group_id: str | None = None
    partial_kwargs: dict[str, Any] = field(default_factory=dict)  # the JSON-compatible ones
    extra: dict[str, Any] = field(default_factory=dict)  # an operator's ``serialized_extra_fields``
    outlets: list[Asset] = field(default_factory=list)  # the assets among its outlets (stored if any)
    dag: SerializedDag | None = field(default=None, repr=False)

    @property
    def dag_id(self) -> str | None:
        return self.dag.dag_id if self.dag is not None else None

    def get_flat_relative_ids(self, upstream: bool = False) -> set[str]:
        """Every task id reachable downstream (or upstream) of this task."""
        assert self.dag is not None
        tasks, seen = self.dag.task_dict, set()
        stack = list(self.upstream_task_ids if upstream else self.downstream_task_ids)
        while stack:
            task_id = stack.pop()
            if task_id not in seen:
                seen.add(task_id)
                relative = tasks[task_id]
                stack.extend(relative.upstream_task_ids if upstream else relative.downstream_task_ids)
        return seen

    def iter_mapped_dependants(self) -> list[SerializedTask]:
        """Downstream mapped tasks whose expansion reads this task's XCom."""
        assert self.dag is not None
        found = (self.dag.task_dict[t] for t in sorted(self.downstream_task_ids))
        return [t for t in found if t.is_mapped and self.task_id in t.expansion_upstream_task_ids]

    def __repr__(self) -> str:
        return f"<SerializedTask({self.task_type}): {self.task_id}>"


@dataclass(slots=True, eq=False)
class SerializedTaskGroup:
    """A node of the TaskGroup tree; ``children`` maps task ids and group ids, in definition order."""

    group_id: str | None
    label: str | None = None
    tooltip: str = ""
    ui_color: str = "CornflowerBlue"
    ui_fgcolor: str = "#000"
    prefix_group_id: bool = True
    group_display_name: str | None = None
    parent_group: SerializedTaskGroup | None = field(default=None, repr=False)
    children: dict[str, SerializedTask | SerializedTaskGroup] = field(default_factory=dict, repr=False)

    def iter_tasks(self) -> list[SerializedTask]:
        nested = (
            c.iter_tasks() if isinstance(c, SerializedTaskGroup) else [c] for c in self.children.values()
        )
        return [task for tasks in nested for task in tasks]

    def iter_groups(self) -> list[SerializedTaskGroup]:
        groups = [c for c in self.children.values() if isinstance(c, SerializedTaskGroup)]
        return [g for group in groups for g in (group, *group.iter_groups())]


@dataclass(slots=True, eq=False)
class SerializedDag:
    """A DAG read back from its stored JSON: everything the scheduler and the UI need."""

    dag_id: str
    fileloc: str
    timetable: Timetable
    timezone: tzinfo
    params: ParamsDict
    task_dict: dict[str, SerializedTask]  # sorted by task_id
    task_group: SerializedTaskGroup
    description: str | None = None
    doc_md: str | None = None
    timetable_summary: str = ""  # the timetable's short label, e.g. "0 2 * * *"
    timetable_description: str = ""  # describe_schedule(), e.g. "At 02:00 every day"
    start_date: datetime | None = None
    end_date: datetime | None = None
    catchup: bool = False
    tags: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    max_active_runs: int = 16
    max_active_tasks: int = 16
    max_consecutive_failed_dag_runs: int = 0
    fail_fast: bool = False
    dagrun_timeout: timedelta | None = None
    has_on_success_callback: bool = False
    has_on_failure_callback: bool = False
    render_template_as_native_obj: bool = False
    is_paused_upon_creation: bool | None = None
    dag_display_name: str = ""
    edge_info: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def tasks(self) -> list[SerializedTask]:
        return list(self.task_dict.values())

    @property
    def roots(self) -> list[SerializedTask]:
        return [t for t in self.task_dict.values() if not t.upstream_task_ids]

    @property
    def leaves(self) -> list[SerializedTask]:
        return [t for t in self.task_dict.values() if not t.downstream_task_ids]

    def get_task(self, task_id: str) -> SerializedTask:
        if task_id not in self.task_dict:
            raise KeyError(f"DAG {self.dag_id!r} has no task {task_id!r}")
        return self.task_dict[task_id]

    def get_edge_info(self, upstream_id: str, downstream_id: str) -> dict[str, Any]:
        return self.edge_info.get((upstream_id, downstream_id), {})

    def topological_sort(self) -> list[SerializedTask]:
        """Tasks with every upstream before its downstream; raises DagCycleError on a cycle."""
        tasks = self.task_dict
        indegree = {task_id: len(task.upstream_task_ids) for task_id, task in tasks.items()}
        ready = [task_id for task_id, count in reversed(indegree.items()) if count == 0]
        order: list[SerializedTask] = []
        while ready:
            order.append(task := tasks[ready.pop()])
            for down in sorted(task.downstream_task_ids, reverse=True):
                indegree[down] -= 1
                if indegree[down] == 0:
                    ready.append(down)
        if len(order) != len(tasks):
            stuck = ", ".join(sorted(t for t, c in indegree.items() if c > 0))
            raise DagCycleError(f"DAG {self.dag_id!r} has a dependency cycle among tasks {stuck}")
        return order

    def __repr__(self) -> str:
        return f"<SerializedDag: {self.dag_id}>"


_NAMES = [f.name for f in fields(SerializedTask)]
#: Task attributes stored as they are (JSON-safe), only when they differ from the dataclass default
#: (changing such a default changes what stored DAGs mean: bump SERIALIZATION_VERSION then).
_TASK_COPIED = tuple(
    (f.name, f.default)
    for f in fields(SerializedTask)[_NAMES.index("retries") : _NAMES.index("on_failure_fail_dagrun") + 1]
)
_TASK_READ = frozenset(_NAMES) - {"task_group", "dag", "operator_name"}
#: How stored values turn back into attribute values; the others are read as they are.
_READERS: dict[str, Any] = {"upstream_task_ids": set, "downstream_task_ids": set, "trigger_rule": TriggerRule,
    "retry_delay": _delta, "max_retry_delay": _delta, "execution_timeout": _delta, "dagrun_timeout": _delta,
    "start_date": datetime.fromisoformat, "end_date": datetime.fromisoformat, "timezone": parse_timezone,
    "outlets": lambda items: [decode_asset(item) for item in items],
    "timetable": deserialize_timetable, "params": ParamsDict.deserialize}  # fmt: skip
_DAG_COPIED = ("description", "doc_md", "catchup", "max_active_runs", "max_active_tasks", "fail_fast",
    "max_consecutive_failed_dag_runs", "render_template_as_native_obj", "is_paused_upon_creation",
    "dag_display_name")  # fmt: skip
_DAG_READ = frozenset(f.name for f in fields(SerializedDag)) - {"task_dict", "task_group", "edge_info"}
_GROUP_FIELDS = [(f.name, f.default) for f in fields(SerializedTaskGroup)][:-2]  # not parent, children
_GROUP_NAMES = frozenset(name for name, _ in _GROUP_FIELDS)


def _expand_fields(task: Any) -> dict[str, Any]:
    group = None if isinstance(task, MappedOperator) else task.mapped_task_group
    expand_input = task.expand_input if group is None else group.expand_input
    value = expand_input.value
    if isinstance(expand_input, DictOfListsExpandInput):
        kind, names = "dict_of_lists", list(value)
        literal: Any = {name: _json_or(item, None) for name, item in value.items()}
    else:
        kind, literal = "list_of_dicts", _json_or(value, None)
        items = value if isinstance(value, (list, tuple)) else []
        names = list(dict.fromkeys(key for item in items if isinstance(item, dict) for key in item))
    partial = {k: _json_or(v, _SKIP) for k, v in (task.partial_kwargs if group is None else {}).items()}
    return {
        "expand_kind": kind,
        "expand_names": names,
        "expand_value": literal,
        "expansion_upstream_task_ids": sorted({t.task_id for t in task.iter_expansion_upstreams()}),
        "partial_kwargs": {k: v for k, v in partial.items() if v is not _SKIP},
        **({"mapped_group_id": group.group_id} if group is not None else {}),
    }


def _serialize_task(task: Any, tz: tzinfo) -> dict[str, Any]:
    mapped = bool(getattr(task, "is_mapped", False))
    cls = task.operator_class if isinstance(task, MappedOperator) else type(task)
    mro = {klass.__name__ for klass in cls.__mro__}  # by name: the SDK cannot import operators
    callbacks = {f"has_on_{k}_callback": bool(getattr(task, f"on_{k}_callback", None)) for k in _CALLBACKS}
    copied = ((name, default, _safe(getattr(task, name, default))) for name, default in _TASK_COPIED)
    out = {name: value for name, default, value in copied if value != default} | callbacks
    template_fields = [str(name) for name in task.template_fields]
    own = {name: _safe(getattr(task, name, None)) for name in getattr(cls, "serialized_extra_fields", ())}
    if own:
        out["extra"] = own
    extra = _expand_fields(task) if mapped else {}
    expanded = extra.get("expand_names", ()) if isinstance(task, MappedOperator) else ()
    empty = "EmptyOperator" in mro and not getattr(task, "outlets", None) and not any(callbacks.values())
    if assets := asset_outlets(getattr(task, "outlets", None)):  # stored only when there are some
        out["outlets"] = [encode_asset(item) for item in assets]
    out.update(
        task_id=task.task_id,
        label=task.label,
        operator=getattr(cls, "custom_operator_name", None) or cls.__name__,
        task_type=cls.__name__,
        operator_module=cls.__module__,
        task_group=task.task_group.group_id if task.task_group is not None else None,
        upstream_task_ids=sorted(task.upstream_task_ids),
        downstream_task_ids=sorted(task.downstream_task_ids),
        trigger_rule=TriggerRule(task.trigger_rule).value,
        retry_delay=_seconds(getattr(task, "retry_delay", 300.0)),
        max_retry_delay=_seconds(getattr(task, "max_retry_delay", None)),
        execution_timeout=_seconds(getattr(task, "execution_timeout", None)),
        start_date=_iso(getattr(task, "start_date", None), tz),
        end_date=_iso(getattr(task, "end_date", None), tz),
        is_empty=empty,
        is_sensor="BaseSensorOperator" in mro or getattr(cls, "is_sensor", False) is True,
        is_mapped=mapped,
        template_fields=template_fields,
        template_ext=_safe(list(getattr(task, "template_ext", ()))),
        template_fields_renderers=_safe(dict(getattr(task, "template_fields_renderers", {}))),
        template_values={f: _safe(getattr(task, f, None)) for f in template_fields if f not in expanded},
        **extra,
    )
    return out


def _serialize_group(group: Any) -> dict[str, Any]:
    out = {name: _safe(getattr(group, name, default)) for name, default in _GROUP_FIELDS}
    out["children"] = [
        _serialize_group(c) if hasattr(c, "children") else k for k, c in group.children.items()
    ]
    return out


def serialize_dag(dag: DAG) -> dict[str, Any]:
    """The DAG as JSON-compatible data: ``{"__version": SERIALIZATION_VERSION, "dag": {...}}``."""
    where, tz, timetable = f"DAG {dag.dag_id!r}", dag.timezone, dag.timetable
    if (timetable_data := _json_or(serialize_timetable(timetable), _SKIP)) is _SKIP:
        raise DagSerializationError(f"{where}: {type(timetable).__name__}.serialize() must return JSON data")
    try:
        timezone_name = encode_timezone(tz)
    except ValueError as exc:
        raise DagSerializationError(f"{where}: {exc}") from None
    tasks = []
    for task_id in sorted(dag.task_dict):
        try:
            tasks.append(_serialize_task(dag.task_dict[task_id], tz))
        except Exception as exc:
            raise DagSerializationError(f"{where}, task {task_id!r}: cannot serialize: {exc}") from exc
    data, edges = {name: _safe(getattr(dag, name)) for name in _DAG_COPIED}, dag.edge_info.items()
    data.update(
        dag_id=dag.dag_id,
        fileloc=dag.fileloc,
        timetable=timetable_data,
        timetable_summary=str(timetable.summary),
        timetable_description=describe_schedule(timetable),
        timezone=timezone_name,
        start_date=_iso(dag.start_date, tz),
        end_date=_iso(dag.end_date, tz),
        tags=sorted(dag.tags),
        owners=sorted({str(getattr(t, "owner", "airflow")) for t in dag.task_dict.values()}),
        params=_safe(dag.params.dump()),
        dagrun_timeout=_seconds(dag.dagrun_timeout),
        has_on_success_callback=bool(dag.on_success_callback),
        has_on_failure_callback=bool(dag.on_failure_callback),
        edge_info=[{"from": u, "to": d, "label": _safe(i.get("label"))} for (u, d), i in sorted(edges)],
        task_group=_serialize_group(dag.task_group),
        tasks=tasks,
    )
    return {"__version": SERIALIZATION_VERSION, "dag": data}


def _read(data: dict[str, Any], names: Collection[str]) -> dict[str, Any]:
    return {
        k: _READERS[k](v) if k in _READERS and v is not None else v for k, v in data.items() if k in names
    }


def _deserialize_group(
    data: dict[str, Any], parent: SerializedTaskGroup | None, tasks: dict[str, SerializedTask]
) -> SerializedTaskGroup:
    group = SerializedTaskGroup(**{k: v for k, v in data.items() if k in _GROUP_NAMES}, parent_group=parent)
    for child in data.get("children", ()):
        if isinstance(child, str):
            group.children[child] = tasks[child]
            tasks[child].task_group = group
        else:
            sub = _deserialize_group(child, group, tasks)
            group.children[str(sub.group_id)] = sub
    return group


def deserialize_dag(data: dict[str, Any]) -> SerializedDag:
    """Read ``serialize_dag``'s output (also after a JSON round trip) into a SerializedDag."""
    version, body = data.get("__version"), data.get("dag")
    dag_id = body.get("dag_id") if isinstance(body, dict) else None
    if not isinstance(body, dict) or version != SERIALIZATION_VERSION:
        raise DagSerializationError(
            f"serialized DAG {dag_id!r} has format version {version!r}, but this updraft reads version "
            f"{SERIALIZATION_VERSION}: parse the DAG file again"
        )
    try:
        tasks = {
            t["task_id"]: SerializedTask(**_read(t, _TASK_READ), operator_name=t["operator"])
            for t in body["tasks"]
        }
        task_group = _deserialize_group(body["task_group"], None, tasks)
        edge_info = {(e["from"], e["to"]): {"label": e["label"]} for e in body["edge_info"]}
        dag = SerializedDag(
            **_read(body, _DAG_READ), task_dict=tasks, task_group=task_group, edge_info=edge_info
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DagSerializationError(f"serialized DAG {dag_id!r} is malformed: {exc!r}") from exc
    for task in tasks.values():
        task.dag = dag
        if task.task_group is None:
            task.task_group = task_group
    return dag


def priority_weights(dag_like: Any) -> dict[str, int]:
    """Each task's effective priority under its weight_rule, on a DAG or a SerializedDag.

    ``downstream``: own weight plus the weights of all tasks downstream; ``upstream``: of all tasks
    upstream; ``absolute``: own weight. One pass in topological order builds each task's relatives
    as a bitset from its direct relatives' bitsets; sums use one mask per distinct weight."""
    tasks = dag_like.task_dict
    order = [task.task_id for task in dag_like.topological_sort()]
    index = {task_id: i for i, task_id in enumerate(order)}
    own = [int(tasks[task_id].priority_weight) for task_id in order]
    rules = [getattr(tasks[t], "weight_rule", "downstream") for t in order]
    rules = [str(getattr(rule, "value", rule)) for rule in rules]  # a WeightRule enum, or its value
    masks: dict[int, int] = {}
    for i, weight in enumerate(own):
        masks[weight] = masks.get(weight, 0) | (1 << i)

    def relatives(upstream: bool) -> list[int]:
        bits = [0] * len(order)
        for i in range(len(order)) if upstream else range(len(order) - 1, -1, -1):
            task = tasks[order[i]]
            for other in task.upstream_task_ids if upstream else task.downstream_task_ids:
                j = index[other]
                bits[i] |= bits[j] | (1 << j)
        return bits

    sets = {rule: relatives(rule == "upstream") for rule in {"downstream", "upstream"} & set(rules)}
    result: dict[str, int] = {}
    for i, task_id in enumerate(order):
        bits = sets[rules[i]][i] if rules[i] in sets else 0
        total = own[i] + (sum(w * (bits & mask).bit_count() for w, mask in masks.items()) if bits else 0)
        result[task_id] = min(max(total, _INT32_MIN), _INT32_MAX)
    return result
