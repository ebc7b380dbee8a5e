"""The typed JSON codec: exact round trips, plain JSON when possible, and clear errors."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import random
import time
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import FR, relativedelta

from updraft.sdk import serde
from updraft.sdk.exceptions import XComValueError

BERLIN = ZoneInfo("Europe/Berlin")


def same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down, NaN equal to NaN, and with the same time zone."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if isinstance(a, set | frozenset):
        b_items = {item: item for item in b}
        return len(a) == len(b) and all(x in b_items and same(x, b_items[x]) for x in a)
    if isinstance(a, Decimal):
        return str(a) == str(b)
    if isinstance(a, dt.datetime | dt.time):
        return (
            a == b
            and a.tzinfo == b.tzinfo
            and a.fold == b.fold
            and a.replace(tzinfo=None) == b.replace(tzinfo=None)
        )
    return bool(a == b)


def round_trip(value: Any) -> Any:
    text = serde.encode(value)
    json.loads(text)  # always valid JSON
    return serde.decode(text)


# --- each type ---------------------------------------------------------------------------------

VALUES = [
    None,
    True,
    False,
    0,
    -(10**30),
    1.5,
    -0.0,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    'héllo ✓ \n "quoted" \\',
    [],
    {},
    [1, [2, [3, {}]]],
    {"a": {"b": [None, 1.25]}},
    dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
    dt.datetime(2024, 7, 1, 12, tzinfo=BERLIN),
    dt.datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN, fold=1),  # the second 02:30 of that night
    dt.datetime(2024, 10, 27, 2, 30, fold=1),
    dt.date(2024, 2, 29),
    dt.time(23, 59, 59, 999999),
    dt.time(8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.timedelta(days=-3, seconds=5, microseconds=7),
    Decimal("1.10"),
    Decimal("-1E+10"),
    Decimal("NaN"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    (1, "a", None),
    (),
    {1, 2, 3},
    frozenset({"x", ("nested", 1)}),
    set(),
    b"\x00\xffbinary",
    bytearray(b"abc"),
    {1: "int key", (2, 3): "tuple key", None: "none key", dt.date(2024, 1, 1): "date key"},
]


@pytest.mark.parametrize(
    "value", VALUES, ids=[f"{i}-{type(v).__name__}" for i, v in enumerate(VALUES)]
)  # ids must not depend on set ordering: xdist workers must collect identical ids
def test_each_type_round_trips_exactly(value: Any) -> None:
    assert same(round_trip(value), value)


def test_plain_json_values_are_written_as_plain_json() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": -0.0}}
    assert serde.encode(value) == '{"a":[1,2.5,"x",null,true],"b":{"c":-0.0}}'
    assert serde.encode("ü") == '"ü"'
    assert serde.encode(7) == "7"


def test_plain_json_written_elsewhere_decodes_as_itself() -> None:
    assert serde.decode('{"a": [1, 2], "b": null}') == {"a": [1, 2], "b": None}
    assert math.isnan(serde.decode("NaN"))
    assert serde.decode(b'"bytes in"') == "bytes in"


def test_groupby_style_dict_with_tuple_keys() -> None:
    value = {("EU", 2024): [Decimal("1.50"), Decimal("2.25")], ("US", 2023): []}
    back = round_trip(value)
    assert same(back, value)
    assert back[("EU", 2024)] == [Decimal("1.50"), Decimal("2.25")]


def test_set_of_tuples_and_nested_mixtures() -> None:
    value = [
        {(1, 2), (3, 4)},
        {"when": (dt.date(2024, 1, 1), dt.timedelta(hours=1))},
        frozenset({frozenset({1})}),
    ]
    assert same(round_trip(value), value)


def test_zone_is_kept_not_just_the_offset() -> None:
    back = round_trip(dt.datetime(2024, 3, 31, 1, 30, tzinfo=BERLIN))
    assert back.tzinfo is BERLIN
    assert (back + dt.timedelta(hours=1)).utcoffset() == dt.timedelta(hours=1)  # wall-clock zone arithmetic


def test_enum_subclasses_of_json_types_are_stored_as_their_value() -> None:
    class Color(str, enum.Enum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    assert round_trip([Color.RED, Level.HIGH]) == ["red", 3]
    assert type(round_trip(Level.HIGH)) is int


def test_numpy_scalars_are_stored_as_python_scalars() -> None:
    np = pytest.importorskip("numpy")
    back = round_trip({"i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True)})
    assert same(back, {"i": 3, "f": 0.5, "b": True})


def test_numpy_like_scalars_use_their_item(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    fake = types.ModuleType("numpy")

    class generic:  # numpy's name
        def __init__(self, value: Any) -> None:
            self.value = value

        def item(self) -> Any:
            return self.value

    fake.generic = generic  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "numpy", fake)
    assert same(round_trip([generic(7), generic(dt.date(2024, 1, 1))]), [7, dt.date(2024, 1, 1)])


# --- the marker key -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"__updraft_type": "datetime", "v": "2024-01-01T00:00:00"},
        {"__updraft_type": "tuple", "v": [1, 2]},
        [{"outer": {"__updraft_type": "set", "v": []}}],
        {"__updraft_type": None},
        "a string mentioning __updraft_type",
        {"text": '{"__updraft_type": "bytes", "v": "AA=="}'},
    ],
)
def test_user_data_that_looks_like_the_marker_round_trips(value: Any) -> None:
    assert same(round_trip(value), value)


def test_unknown_encoded_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown encoded type 'spaceship'"):
        serde.decode('{"__updraft_type": "spaceship", "v": 1}')


# --- property test over random nested structures ----------------------------------------------


def random_hashable(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(9 if depth > 0 else 7)
    if kind == 0:
        return rng.randint(-(2**40), 2**40)
    if kind == 1:
        return "".join(rng.choice("ab_é✓ \"'\\") for _ in range(rng.randrange(6)))
    if kind == 2:
        return rng.choice([None, True, False])
    if kind == 3:
        return rng.choice([0.5, -2.25, 1e300, -0.0])
    if kind == 4:
        return dt.datetime(2024, 1, 1, tzinfo=rng.choice([None, dt.timezone.utc, BERLIN])) + dt.timedelta(
            seconds=rng.randrange(10**8)
        )
    if kind == 5:
        return rng.choice(
            [Decimal("3.14"), uuid.UUID(int=rng.getrandbits(128)), dt.date(2000, 1, 1), b"\x01"]
        )
    if kind == 6:
        return rng.choice(["__updraft_type", "v", "dict"])
    if kind == 7:
        return tuple(random_hashable(rng, depth - 1) for _ in range(rng.randrange(3)))
    return frozenset(random_hashable(rng, depth - 1) for _ in range(rng.randrange(3)))


def random_value(rng: random.Random, depth: int) -> Any:
    if depth <= 0 or rng.random() < 0.3:
        if rng.random() < 0.2:
            return rng.choice([float("nan"), float("inf"), dt.timedelta(milliseconds=rng.randrange(10**9))])
        return random_hashable(rng, 1)
    kind = rng.randrange(6)
    size = rng.randrange(4)
    if kind == 0:
        return [random_value(rng, depth - 1) for _ in range(size)]
    if kind == 1:
        return tuple(random_value(rng, depth - 1) for _ in range(size))
    if kind == 2:
        return {
            rng.choice(["a", "b", "__updraft_type", "v", "é"]): random_value(rng, depth - 1)
            for _ in range(size)
        }
    if kind == 3:
        return {random_hashable(rng, 2): random_value(rng, depth - 1) for _ in range(size)}
    if kind == 4:
        return {random_hashable(rng, 2) for _ in range(size)}
    return bytearray(rng.randbytes(size))


def test_random_nested_structures_round_trip() -> None:
    rng = random.Random(20240601)
    for _ in range(1500):
        value = random_value(rng, 4)
        back = round_trip(value)
        assert same(back, value), f"{value!r} came back as {back!r}"


# --- errors -------------------------------------------------------------------------------------


class Foo:
    pass


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (Foo(), ""),
        ([{"k": Foo()}], " at [0]['k']"),
        ({"a": (1, Foo())}, " at ['a'][1]"),
        ({(1, Foo()): "v"}, " at <key (1, "),
        ([{1, Foo()}], " at [0]<item "),
    ],
)
def test_unsupported_values_are_named_with_their_place(value: Any, where: str) -> None:
    with pytest.raises(XComValueError) as err:
        serde.encode(value)
    message = str(err.value)
    assert message.startswith(f"cannot store a value of type 'Foo'{where}")
    assert "supported types are None, bool, int, float, str, list, dict" in message


def test_a_dataframe_gets_a_hint() -> None:
    class DataFrame:
        pass

    with pytest.raises(XComValueError, match=r"type 'DataFrame' at \['df'\]: convert it first"):
        serde.encode({"df": DataFrame()})


def test_a_value_containing_itself_is_an_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(XComValueError, match="contains itself"):
        serde.encode(loop)


def test_size_limit() -> None:
    limit = 1024 * 1024
    big = "x" * (2 * limit)
    with pytest.raises(XComValueError) as err:
        serde.encode(big, max_bytes=limit)
    assert str(err.value) == (
        "XCom value is 2.0 MB (2097154 bytes), over the 1.0 MB limit (core.xcom_max_size_bytes = 1048576)"
    )
    assert serde.encode("x" * 10, max_bytes=12) == '"' + "x" * 10 + '"'  # exactly at the limit is fine
    with pytest.raises(XComValueError, match=r"is 14 bytes \(14 bytes\), over the 13 bytes limit"):
        serde.encode("é" * 6, max_bytes=13)  # counted in UTF-8 bytes, not characters


def test_small_values_are_fast() -> None:
    value = {"rows": 3, "ok": True, "name": "load"}
    start = time.perf_counter()
    for _ in range(2000):
        serde.decode(serde.encode(value))
    assert (time.perf_counter() - start) / 2000 < 100e-6  # generous: about 2 us on a laptop


# --- time zones and schedule deltas -------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "name"),
    [
        (ZoneInfo("America/New_York"), "America/New_York"),
        (dt.timezone.utc, "UTC"),
        (ZoneInfo("UTC"), "UTC"),
        (dt.timezone(dt.timedelta(hours=5, minutes=30)), "+05:30"),
        (dt.timezone(dt.timedelta(hours=-8)), "-08:00"),
    ],
)
def test_timezone_names_round_trip(tz: dt.tzinfo, name: str) -> None:
    assert serde.encode_timezone(tz) == name
    moment = dt.datetime(2024, 6, 1, 12)
    assert serde.parse_timezone(name).utcoffset(moment) == tz.utcoffset(moment)


def test_unknown_timezone() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Nowhere/Land'"):
        serde.parse_timezone("Nowhere/Land")
    assert serde.parse_timezone(3600).utcoffset(None) == dt.timedelta(hours=1)


@pytest.mark.parametrize(
    "delta",
    [
        dt.timedelta(hours=1, microseconds=1),
        relativedelta(months=1, days=-2),
        relativedelta(weekday=FR(-1), day=31),
    ],
)
def test_schedule_deltas_round_trip(delta: Any) -> None:
    encoded = serde.encode_delta(delta)
    assert json.loads(json.dumps(encoded)) == encoded
    assert serde.decode_delta(encoded) == delta
