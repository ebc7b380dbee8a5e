"""Assets and datasets in DAG files: identity, validation, conditions, schedules, stored JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

import updraft
from updraft.operators import EmptyOperator
from updraft.sdk.assets import (
    Asset,
    AssetAlias,
    AssetAll,
    AssetAny,
    Dataset,
    InletEventsAccessors,
    Metadata,
    OutletEventAccessors,
    TriggeringAssetEvent,
    TriggeringAssetEvents,
    asset,
    decode_condition,
)
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import DagDefinitionError
from updraft.sdk.serialization import dag_hash, deserialize_dag, serialize_dag
from updraft.sdk.timetables import (
    AssetOrTimeSchedule,
    AssetTriggeredTimetable,
    CronTriggerTimetable,
    DatasetOrTimeSchedule,
    create_timetable,
    describe_schedule,
)

A, B, C = Asset("s3://bucket/a"), Asset("s3://bucket/b"), Asset(name="c", uri="file:///data/c.csv")


def round_trip(dag: DAG):
    return deserialize_dag(json.loads(json.dumps(serialize_dag(dag))))


# -- identity and validation --------------------------------------------------------------------


def test_name_and_uri_default_to_each_other() -> None:
    assert (A.name, A.uri, A.group, A.extra) == ("s3://bucket/a", "s3://bucket/a", "asset", {})
    named = Asset(name="orders")
    assert named.uri == "orders"
    assert Asset(uri="s3://x/y").name == "s3://x/y"


def test_identity_is_name_and_uri() -> None:
    assert Asset("s3://bucket/a") == A and hash(Asset("s3://bucket/a")) == hash(A)
    assert Asset("s3://bucket/a", extra={"k": 1}) == A  # extra is not identity
    assert Asset(name="other", uri="s3://bucket/a") != A
    assert Dataset("s3://bucket/a") == A  # the Airflow 2 name is the same thing
    assert Dataset("s3://bucket/a", extra={"x": 1}).extra == {"x": 1}


def test_lazy_exports() -> None:
    assert updraft.Asset is Asset and updraft.Dataset is Dataset
    assert updraft.AssetAll is AssetAll and updraft.AssetAny is AssetAny


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a name or a uri"),
        ({"uri": ""}, "must not be empty"),
        ({"name": "   "}, "must not be empty"),
        ({"uri": "airflow://dag/x"}, "reserved scheme 'airflow'"),
        ({"uri": "s3://bucket/caf\u00e9"}, "only ASCII"),
        ({"uri": " s3://bucket/a"}, "whitespace"),
        ({"uri": "postgres://user:secret@host/db/t"}, "must not contain credentials"),
        ({"uri": "s3://" + "x" * 1600}, "longer than 1500"),
        ({"uri": "s3://b/a", "extra": {"when": datetime(2024, 1, 1)}}, "JSON-serializable"),
        ({"uri": "s3://b/a", "extra": ["not", "a", "dict"]}, "must be a dict"),
        ({"uri": 5}, "must be a string"),
    ],
)
def test_invalid_assets_are_refused_with_a_clear_error(kwargs, message) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        Asset(**kwargs)


def test_credentials_are_not_echoed_in_the_error() -> None:
    with pytest.raises(DagDefinitionError) as info:
        Asset("postgres://user:secret@host/db")
    assert "secret" not in str(info.value)


def test_alias_and_asset_decorator_raise_clear_errors() -> None:
    with pytest.raises(DagDefinitionError, match=r"AssetAlias.*not supported"):
        AssetAlias("my-alias")
    with pytest.raises(DagDefinitionError, match=r"@asset is not supported.*outlets=\[Asset"):

        @asset(schedule="@daily")
        def my_asset() -> None: ...


# -- conditions ---------------------------------------------------------------------------------


def test_operators_build_conditions() -> None:
    both, either = A & B, A | B
    assert isinstance(both, AssetAll) and both.objects == (A, B)
    assert isinstance(either, AssetAny) and either.objects == (A, B)
    assert (A & B & C).objects == (A, B, C)  # flattened as written
    nested = A & (B | C)
    assert isinstance(nested.objects[1], AssetAny)
    assert list(nested.iter_assets()) == [A, B, C]


def test_evaluate() -> None:
    condition = A & (B | C)
    assert not condition.evaluate(set())
    assert not condition.evaluate({A.key})
    assert not condition.evaluate({B.key, C.key})
    assert condition.evaluate({A.key, C.key})
    assert condition.evaluate({A.key, B.key, C.key})
    assert (A | B).evaluate({B.key}) and not (A & B).evaluate({B.key})
    assert A.evaluate({A.key}) and not A.evaluate({B.key})


def test_conditions_refuse_non_assets() -> None:
    with pytest.raises(DagDefinitionError, match="takes assets"):
        AssetAll(A, "s3://bucket/b")  # type: ignore[arg-type]
    with pytest.raises(DagDefinitionError, match="at least one"):
        AssetAny()
    with pytest.raises(TypeError):
        A & "s3://b"  # type: ignore[operator]


def test_condition_json_round_trip() -> None:
    condition = A & (B | Asset("s3://bucket/d", extra={"owner": "ops"}))
    data = json.loads(json.dumps(condition.encode()))
    back = decode_condition(data)
    assert back == condition
    assert list(back.iter_assets())[2].extra == {"owner": "ops"}


# -- schedules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (A, A),
        ([A], A),
        ([A, B], AssetAll(A, B)),
        ([Dataset("s3://bucket/a"), Dataset("s3://bucket/b")], AssetAll(A, B)),
        (A | B, AssetAny(A, B)),
        (A & (B | C), AssetAll(A, AssetAny(B, C))),
    ],
)
def test_asset_schedules_make_an_asset_triggered_timetable(schedule, expected) -> None:
    timetable = create_timetable(schedule)
    assert isinstance(timetable, AssetTriggeredTimetable)
    assert timetable.asset_condition == expected
    assert timetable.summary == "Asset" and describe_schedule(timetable) == "Triggered by assets"
    assert timetable.next_dagrun_info(last_automated_data_interval=None, restriction=None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [([], "at least one asset"), ([A, "@daily"], "invalid schedule"), ((A, 5), "a list of assets")],
)
def test_bad_asset_schedules(schedule, message) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        DAG("bad", schedule=schedule)


def test_asset_or_time_schedule() -> None:
    timetable = AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 2 * * *"), assets=[A, B])
    assert timetable.asset_condition == AssetAll(A, B)
    assert timetable.summary == "Asset or 0 2 * * *"
    assert describe_schedule(timetable) == "Triggered by assets or At 02:00 every day"
    assert timetable.periodic
    legacy = DatasetOrTimeSchedule(
        timetable=CronTriggerTimetable("@daily"), datasets=[Dataset("s3://bucket/a")]
    )
    assert legacy.asset_condition == A


# -- the stored DAG -----------------------------------------------------------------------------


def test_serialized_dag_keeps_the_condition_and_asset_outlets() -> None:
    with DAG("consumer", schedule=A & (B | C), start_date=datetime(2024, 1, 1)) as dag:
        EmptyOperator(task_id="publish", outlets=[C, "not an asset", C])
        EmptyOperator(task_id="plain")
    data = serialize_dag(dag)
    assert data["dag"]["timetable_summary"] == "Asset"
    assert data["dag"]["timetable_description"] == "Triggered by assets"
    back = round_trip(dag)
    assert isinstance(back.timetable, AssetTriggeredTimetable)
    assert back.timetable.asset_condition == A & (B | C)
    assert back.task_dict["publish"].outlets == [C]
    assert not back.task_dict["publish"].is_empty  # it must run to record its event
    assert back.task_dict["plain"].outlets == [] and back.task_dict["plain"].is_empty
    assert "outlets" not in next(t for t in data["dag"]["tasks"] if t["task_id"] == "plain")


def test_asset_or_time_schedule_round_trip() -> None:
    schedule = AssetOrTimeSchedule(timetable=CronTriggerTimetable("@hourly"), assets=A | B)
    with DAG("both", schedule=schedule, start_date=datetime(2024, 1, 1)) as dag:
        EmptyOperator(task_id="t")
    back = round_trip(dag)
    assert back.timetable == schedule
    assert back.timetable_summary == "Asset or 0 * * * *"


def test_stored_dags_without_outlets_still_read() -> None:
    with DAG("old", schedule=timedelta(hours=1), start_date=datetime(2024, 1, 1)) as dag:
        EmptyOperator(task_id="t")
    data = serialize_dag(dag)
    for task in data["dag"]["tasks"]:
        task.pop("outlets", None)
    assert deserialize_dag(data).task_dict["t"].outlets == []
    assert dag_hash(data) == dag_hash(serialize_dag(dag))  # no outlets: the JSON did not change


# -- what a running task sees -------------------------------------------------------------------


def test_outlet_events_and_metadata() -> None:
    accessors = OutletEventAccessors()
    accessors[A].extra["rows"] = 3
    accessors.add_metadata(Metadata(B, {"size": 10}))
    accessors["s3://bucket/a"].extra["more"] = True
    assert accessors.extras() == {A.key: {"rows": 3, "more": True}, B.key: {"size": 10}}
    accessors[C].extra["bad"] = object()
    with pytest.raises(DagDefinitionError, match="JSON"):
        accessors.extras()
    with pytest.raises(TypeError):
        Metadata("s3://bucket/a", {})  # type: ignore[arg-type]


def test_triggering_asset_events_mapping() -> None:
    def event(i: int, item: Asset) -> TriggeringAssetEvent:
        return TriggeringAssetEvent(i, item, {"i": i}, "p", "r", "t", -1, datetime(2024, 1, 1, i))

    events = TriggeringAssetEvents([event(1, A), event(2, C), event(3, A)])
    assert list(events) == [A, C]
    assert [e.id for e in events[A]] == [1, 3]
    assert events["s3://bucket/a"] == events[A]  # Airflow 2 keyed by URI
    assert events["c"] == events["file:///data/c.csv"] == events[C]
    assert events.by_uri() == {"s3://bucket/a": events[A], "file:///data/c.csv": events[C]}
    assert events[A][0].dataset_uri == "s3://bucket/a"
    with pytest.raises(KeyError):
        events[B]


def test_inlet_events_read_only_the_task_inlets_once() -> None:
    loads: list[Asset] = []

    def load(item: Asset) -> list[TriggeringAssetEvent]:
        loads.append(item)
        return [TriggeringAssetEvent(1, item, {"n": 1}, "p", "r", "t", -1, datetime(2024, 1, 1))]

    inlet_events = InletEventsAccessors([A, "not an asset", C], load)
    assert list(inlet_events) == [A, C]
    assert inlet_events[A][-1].extra == {"n": 1} and inlet_events["s3://bucket/a"] is inlet_events[A]
    assert loads == [A]
    with pytest.raises(KeyError, match="not an asset in this task's inlets"):
        inlet_events[B]


def test_inlet_events_for_asset_by_name_or_uri() -> None:
    inlet_events = InletEventsAccessors(
        [A, C], lambda item: [TriggeringAssetEvent(1, item, {}, "p", "r", "t", -1, datetime(2024, 1, 1))]
    )
    assert inlet_events.for_asset(uri="s3://bucket/a") is inlet_events[A]
    assert inlet_events.for_asset(C.name) is inlet_events[C]
    with pytest.raises(KeyError, match="no asset"):
        inlet_events.for_asset(uri="s3://bucket/nope")
