"""The stored JSON form of a DAG: round trip, stable hashes, odd values, priority weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.dag import DAG
from updraft.sdk.edges import Label
from updraft.sdk.params import Param
from updraft.sdk.serialization import (
    MAX_REPR_CHARS,
    DagSerializationError,
    SerializedDag,
    SerializedTaskGroup,
    dag_hash,
    deserialize_dag,
    priority_weights,
    serialize_dag,
)
from updraft.sdk.taskgroup import TaskGroup
from updraft.sdk.timetables import DataInterval, TimeRestriction
from updraft.sdk.trigger_rule import TriggerRule

BERLIN = ZoneInfo("Europe/Berlin")


class Shell(BaseOperator):
    """A stand-in for BashOperator: one templated command."""

    template_fields = ("command", "env")
    template_ext = (".sh",)
    template_fields_renderers = {"command": "bash"}

    def __init__(self, *, command: Any = "", env: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.command = command
        self.env = env


class EmptyOperator(BaseOperator):
    """Named like the real one: serialization recognises it by class name."""


class BaseSensorOperator(BaseOperator):
    pass


class FileSensor(BaseSensorOperator):
    pass


def _notify(context: Any) -> None:
    pass


def build_etl_dag(retries: int = 2, extra_edge: bool = False) -> DAG:
    """A realistic DAG: groups (one nested), labels, two mapped tasks, params, tags, a cron in Berlin."""
    with DAG(
        "etl",
        schedule="30 2 * * *",
        start_date=datetime(2024, 3, 1, tzinfo=BERLIN),
        end_date=datetime(2025, 1, 1, tzinfo=BERLIN),
        catchup=True,
        tags=["nightly", "finance"],
        params={"region": Param("eu", type="string", enum=["eu", "us"]), "limit": 10},
        dagrun_timeout=timedelta(hours=2),
        on_failure_callback=_notify,
        max_active_runs=3,
        doc_md="# ETL",
        fileloc="/dags/etl.py",
        default_args={"owner": "data", "retries": retries, "retry_delay": timedelta(minutes=5)},
    ) as dag:
        start = EmptyOperator(task_id="start")
        extract = Shell(task_id="extract", command="extract.sh", execution_timeout=timedelta(minutes=30))
        with TaskGroup("transform", tooltip="clean and join") as transform:
            clean = Shell(task_id="clean", command=extract.output, priority_weight=5)
            with TaskGroup("join", ui_color="#abcdef"):
                join = Shell(task_id="join", command="join", trigger_rule="none_failed", owner="alice")
            clean >> join
        load = Shell.partial(task_id="load", pool="db", env={"MODE": "full"}).expand(command=extract.output)
        report = Shell.partial(task_id="report").expand(command=["daily", "weekly"])
        done = EmptyOperator(task_id="done", trigger_rule=TriggerRule.ALL_DONE)
        start >> extract >> Label("raw files") >> transform >> [load, report] >> done
        if extra_edge:
            start >> done
    return dag


def round_trip(dag: DAG) -> SerializedDag:
    """Serialize, store as JSON text (as the DB does), read back."""
    return deserialize_dag(json.loads(json.dumps(serialize_dag(dag))))


def test_round_trip_keeps_structure_and_task_arguments() -> None:
    dag = build_etl_dag()
    back = round_trip(dag)

    assert back.dag_id == "etl" and back.fileloc == "/dags/etl.py" and back.doc_md == "# ETL"
    assert sorted(back.task_dict) == sorted(dag.task_dict)
    for task_id, task in dag.task_dict.items():
        copy = back.get_task(task_id)
        assert copy.upstream_task_ids == task.upstream_task_ids, task_id
        assert copy.downstream_task_ids == task.downstream_task_ids, task_id
        assert copy.trigger_rule is task.trigger_rule, task_id
        assert copy.retries == task.retries == 2, task_id
        assert copy.retry_delay == timedelta(minutes=5), task_id
        assert copy.owner == getattr(task, "owner", None), task_id
        assert copy.task_group is not None and task.task_group is not None
        assert copy.task_group.group_id == task.task_group.group_id, task_id
        assert copy.label == task.label and copy.dag is back
    assert back.get_task("transform.join.join").trigger_rule is TriggerRule.NONE_FAILED
    assert back.get_task("extract").execution_timeout == timedelta(minutes=30)
    assert back.get_task("transform.clean").priority_weight == 5
    assert back.get_task("load").pool == "db"
    extract = back.get_task("extract")  # arguments left at their defaults read back as the defaults
    assert extract.pool == "default_pool" and extract.do_xcom_push is True and extract.email_on_retry
    assert back.owners == ["alice", "data"]
    assert back.tags == ["finance", "nightly"]
    assert back.catchup is True and back.max_active_runs == 3
    assert back.dagrun_timeout == timedelta(hours=2)
    assert back.has_on_failure_callback and not back.has_on_success_callback
    assert back.start_date == datetime(2024, 3, 1, tzinfo=BERLIN)
    assert back.start_date is not None and back.start_date.utcoffset() == timedelta(hours=1)
    assert back.timezone == BERLIN
    assert back.edge_info == {("extract", "transform.clean"): {"label": "raw files"}}
    assert back.get_edge_info("extract", "transform.clean") == {"label": "raw files"}


def test_round_trip_keeps_the_task_group_tree_in_definition_order() -> None:
    back = round_trip(build_etl_dag())
    root = back.task_group
    assert root.group_id is None
    assert list(root.children) == ["start", "extract", "transform", "load", "report", "done"]
    transform = root.children["transform"]
    assert isinstance(transform, SerializedTaskGroup)
    assert transform.tooltip == "clean and join" and transform.parent_group is root
    assert list(transform.children) == ["transform.clean", "transform.join"]
    join = transform.children["transform.join"]
    assert isinstance(join, SerializedTaskGroup)
    assert join.label == "join" and join.ui_color == "#abcdef"
    assert [t.task_id for t in join.iter_tasks()] == ["transform.join.join"]
    assert [g.group_id for g in root.iter_groups()] == ["transform", "transform.join"]
    assert back.get_task("transform.join.join").task_group is join


def test_round_trip_keeps_params_with_their_schema() -> None:
    back = round_trip(build_etl_dag())
    assert back.params["region"] == "eu" and back.params["limit"] == 10
    region = back.params.get_param("region")
    assert region.schema == {"type": "string", "enum": ["eu", "us"]}
    assert back.params == build_etl_dag().params


def test_round_trip_keeps_mapped_tasks() -> None:
    back = round_trip(build_etl_dag())
    load, report = back.get_task("load"), back.get_task("report")
    assert load.is_mapped and report.is_mapped and not back.get_task("extract").is_mapped
    assert load.expand_kind == "dict_of_lists" and load.expand_names == ["command"]
    assert load.expand_value == {"command": None}  # an XComArg is known only at run time
    assert load.expansion_upstream_task_ids == ["extract"]
    assert load.partial_kwargs["env"] == {"MODE": "full"}
    assert report.expand_value == {"command": ["daily", "weekly"]}
    assert report.expansion_upstream_task_ids == []
    assert back.get_task("extract").iter_mapped_dependants() == [load]


def test_template_fields_keep_their_unrendered_values() -> None:
    back = round_trip(build_etl_dag())
    extract, clean = back.get_task("extract"), back.get_task("transform.clean")
    assert extract.template_fields == ["command", "env"]
    assert extract.template_ext == [".sh"] and extract.template_fields_renderers == {"command": "bash"}
    assert extract.template_values == {"command": "extract.sh", "env": None}
    assert clean.template_values["command"] == "XComArg('extract')"
    assert extract.operator_name == "Shell" and extract.operator_module == __name__


def test_timetable_behaves_like_the_original() -> None:
    dag = build_etl_dag()
    back = round_trip(dag)
    assert back.timetable == dag.timetable
    assert back.timetable_summary == "30 2 * * *"
    assert back.timetable_description == dag.timetable.description
    restriction = TimeRestriction(dag.start_date, dag.end_date, dag.catchup)
    last: tuple[DataInterval | None, DataInterval | None] = (None, None)
    for _ in range(40):  # crosses the switch to summer time on 2024-03-31
        want = dag.timetable.next_dagrun_info(last_automated_data_interval=last[0], restriction=restriction)
        got = back.timetable.next_dagrun_info(last_automated_data_interval=last[1], restriction=restriction)
        assert got == want
        assert want is not None and got is not None
        last = (want.data_interval, got.data_interval)


def test_output_is_plain_json() -> None:
    data = serialize_dag(build_etl_dag())
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["__version"] == 1
    assert [t["task_id"] for t in data["dag"]["tasks"]] == sorted(build_etl_dag().task_dict)


def test_graph_helpers_on_the_serialized_dag() -> None:
    back = round_trip(build_etl_dag())
    assert [t.task_id for t in back.roots] == ["start"]
    assert [t.task_id for t in back.leaves] == ["done"]
    order = [t.task_id for t in back.topological_sort()]
    for task in back.tasks:
        assert all(order.index(up) < order.index(task.task_id) for up in task.upstream_task_ids)
    assert back.get_task("transform.clean").get_flat_relative_ids(upstream=True) == {"start", "extract"}
    assert back.get_task("transform.join.join").get_flat_relative_ids() == {"load", "report", "done"}
    with pytest.raises(KeyError, match="DAG 'etl' has no task 'nope'"):
        back.get_task("nope")


def test_empty_and_sensor_flags() -> None:
    with DAG("flags", fileloc="/dags/flags.py") as dag:
        EmptyOperator(task_id="plain_empty")
        EmptyOperator(task_id="empty_with_callback", on_success_callback=_notify)
        FileSensor(task_id="sensor")
        Shell(task_id="shell")
    back = round_trip(dag)
    assert back.get_task("plain_empty").is_empty
    assert not back.get_task("empty_with_callback").is_empty
    assert back.get_task("empty_with_callback").has_on_success_callback
    assert back.get_task("sensor").is_sensor and not back.get_task("sensor").is_empty
    assert not back.get_task("shell").is_empty and not back.get_task("shell").is_sensor


def test_identical_dags_hash_the_same() -> None:
    assert dag_hash(serialize_dag(build_etl_dag())) == dag_hash(serialize_dag(build_etl_dag()))


@pytest.mark.parametrize(
    "changed",
    [pytest.param({"retries": 3}, id="retry count"), pytest.param({"extra_edge": True}, id="dependency")],
)
def test_hash_changes_when_the_dag_changes(changed: dict[str, Any]) -> None:
    assert dag_hash(serialize_dag(build_etl_dag(**changed))) != dag_hash(serialize_dag(build_etl_dag()))


DAG_FILE = """
from datetime import datetime
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.dag import DAG


class Shell(BaseOperator):
    template_fields = ("command",)

    def __init__(self, *, command=None, **kwargs):
        super().__init__(**kwargs)
        self.command = command


class Thing:
    pass


with DAG("stable", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
    a = Shell(task_id="a", command={"alpha", "beta", "gamma", "delta"}, on_retry_callback=print)
    b = Shell(task_id="b", command=[Thing(), lambda: 1, a.output])
    c = Shell.partial(task_id="c").expand(command=a.output)
    a >> [b, c]
"""

HASH_SCRIPT = """
import importlib.util, sys
from updraft.sdk.serialization import dag_hash, serialize_dag
spec = importlib.util.spec_from_file_location("stable_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(dag_hash(serialize_dag(module.dag)))
"""


def test_hash_is_the_same_in_other_processes(tmp_path: Path) -> None:
    """Sets, default reprs and callables must not make the hash depend on the process."""
    dag_file = tmp_path / "stable_dag.py"
    dag_file.write_text(textwrap.dedent(DAG_FILE))
    hashes = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", HASH_SCRIPT, str(dag_file)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        hashes.add(result.stdout.strip())
    assert len(hashes) == 1


class Opaque:
    """Has the default repr, with a memory address."""


def test_values_that_are_not_json_are_stored_as_readable_strings() -> None:
    with DAG("odd", fileloc="/dags/odd.py") as dag:
        Shell(
            task_id="odd",
            command=datetime(2024, 1, 2, 3, 4),
            env={"when": timedelta(seconds=5), "ids": {3, 1, 2}, "obj": Opaque(), "fn": _notify},
            email={"a@example.com"},
        )
        Shell(task_id="huge", command=Opaque(), env=[Opaque()] * 5000)
        Shell.partial(task_id="mapped", env=Opaque(), retries=1).expand(command=[[1, 2], {"x": Opaque()}])
    data = serialize_dag(dag)
    text = json.dumps(data)
    assert " at 0x" not in text
    odd = next(t for t in data["dag"]["tasks"] if t["task_id"] == "odd")
    assert odd["template_values"]["command"] == "datetime.datetime(2024, 1, 2, 3, 4)"
    env = odd["template_values"]["env"]
    assert "datetime.timedelta(seconds=5)" in env and "{1, 2, 3}" in env and "Opaque object>" in env
    assert "<function _notify>" in env
    assert odd["email"] == "{'a@example.com'}"
    huge = next(t for t in data["dag"]["tasks"] if t["task_id"] == "huge")
    assert len(huge["template_values"]["env"]) == MAX_REPR_CHARS
    back = deserialize_dag(json.loads(text))
    mapped = back.get_task("mapped")
    assert mapped.partial_kwargs == {"task_id": "mapped", "retries": 1}  # env is not JSON: left out
    assert mapped.expand_value == {"command": None}


def test_a_timetable_with_non_json_arguments_is_refused_with_a_clear_error() -> None:
    from updraft.sdk.timetables import NullTimetable

    class Odd(NullTimetable):
        def serialize(self) -> dict[str, Any]:
            return {"when": datetime(2024, 1, 1)}

    dag = DAG("odd_timetable", schedule=Odd(), fileloc="/dags/odd.py")
    with pytest.raises(DagSerializationError, match=r"DAG 'odd_timetable': Odd\.serialize"):
        serialize_dag(dag)


def test_another_format_version_is_refused() -> None:
    data = serialize_dag(build_etl_dag())
    data["__version"] = 99
    with pytest.raises(DagSerializationError, match="'etl' has format version 99"):
        deserialize_dag(data)


def diamond(rule: str) -> DAG:
    """a -> (b, c) -> d with weights 1, 2, 3, 4."""
    with DAG("diamond", fileloc="/dags/diamond.py", default_args={"weight_rule": rule}) as dag:
        a, b, c, d = (Shell(task_id=name, priority_weight=w) for name, w in zip("abcd", (1, 2, 3, 4)))
        a >> [b, c] >> d
    return dag


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # d counts once for a, although two paths lead there.
        ("downstream", {"a": 1 + 2 + 3 + 4, "b": 2 + 4, "c": 3 + 4, "d": 4}),
        ("upstream", {"a": 1, "b": 2 + 1, "c": 3 + 1, "d": 4 + 1 + 2 + 3}),
        ("absolute", {"a": 1, "b": 2, "c": 3, "d": 4}),
    ],
)
def test_priority_weights_follow_the_weight_rule(rule: str, expected: dict[str, int]) -> None:
    dag = diamond(rule)
    assert priority_weights(dag) == expected
    assert priority_weights(round_trip(dag)) == expected


def test_priority_weights_with_mixed_rules_and_a_long_chain() -> None:
    with DAG("mixed", fileloc="/dags/mixed.py") as dag:
        first = Shell(task_id="first", weight_rule="absolute", priority_weight=7)
        middle = Shell(task_id="middle", weight_rule="upstream")
        last = Shell(task_id="last")
        first >> middle >> last
        previous = last
        for i in range(300):
            task = Shell(task_id=f"t{i:03d}")
            previous >> task
            previous = task
    weights = priority_weights(dag)
    assert weights["first"] == 7
    assert weights["middle"] == 1 + 7
    assert weights["last"] == 1 + 300
    assert weights["t000"] == 300
    assert weights["t299"] == 1
