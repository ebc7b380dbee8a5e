"""The typed JSON codec: how XCom values (and later run conf and params) are stored as text.

``encode`` writes plain JSON when a value is made only of JSON types (the fast path: no
wrappers), and otherwise wraps each non-JSON value as ``{"__updraft_type": <name>, "v": ...}``
so that ``decode`` gives back exactly what went in: datetime (naive or aware, with its IANA zone),
date, time, timedelta, Decimal, UUID, tuple, set, frozenset, bytes, non-finite floats, and dicts
with non-string keys. A user dict that itself holds the marker key is wrapped too, so it survives.

Also here: the JSON forms of time zones and schedule deltas that serialized DAGs use.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from typing import TYPE_CHECKING, Any

from updraft.sdk.exceptions import XComValueError

if TYPE_CHECKING:
    from dateutil.relativedelta import relativedelta

MARKER = "__updraft_type"
SUPPORTED_TYPES = (
    "None, bool, int, float, str, list, dict, tuple, set, frozenset, bytes, datetime, date, time, "
    "timedelta, Decimal, UUID (and numpy scalars)"
)
_PLAIN = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False)
_SCALARS = frozenset({str, int, bool, type(None)})


def _is_plain(value: Any) -> bool:
    """Whether ``value`` is made only of JSON types (finite floats, dicts with str keys)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        for item in value:  # noqa: SIM110 - a loop is faster than all() on this hot path
            if not _is_plain(item):
                return False
        return True
    if kind is dict:
        if MARKER in value:
            return False
        for key, item in value.items():  # noqa: SIM110
            if type(key) is not str or not _is_plain(item):
                return False
        return True
    return False


def encode(value: Any, max_bytes: int | None = None) -> str:
    """``value`` as JSON text; raise XComValueError if it is unsupported or over ``max_bytes``."""
    try:
        text = _PLAIN.encode(value if _is_plain(value) else _to_json(value))
    except _Unsupported:
        path, bad = _find_unsupported(value, "")
        where = f" at {path}" if path else ""
        hint = ": convert it first, e.g. df.to_dict('records')" if type(bad).__name__ == "DataFrame" else ""
        raise XComValueError(
            f"cannot store a value of type {type(bad).__name__!r}{where}{hint}: "
            f"supported types are {SUPPORTED_TYPES}"
        ) from None
    except RecursionError:
        raise XComValueError("cannot store a value that contains itself or is nested too deeply") from None
    if max_bytes is not None:
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        if size > max_bytes:
            raise XComValueError(
                f"XCom value is {_size(size)} ({size} bytes), over the {_size(max_bytes)} limit "
                f"(core.xcom_max_size_bytes = {max_bytes})"
            )
    return text


def decode(text: str | bytes) -> Any:
    """The value ``encode`` wrote as ``text``; plain JSON from elsewhere reads as itself."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if MARKER not in text:
        return json.loads(text)
    return json.loads(text, object_hook=_from_json)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f} MB"


class _Unsupported(Exception):
    """Raised deep inside ``_to_json``; ``encode`` then looks for the path to report."""


def _wrap(name: str, payload: Any) -> dict[str, Any]:
    return {MARKER: name, "v": payload}


def _to_json(value: Any) -> Any:
    """A JSON-compatible tree in which every non-JSON value is wrapped."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is float:
        return value if math.isfinite(value) else _wrap("float", repr(value))
    if kind is list:
        return [_to_json(item) for item in value]
    if kind is dict:
        if MARKER not in value and all(type(key) is str for key in value):
            return {key: _to_json(item) for key, item in value.items()}
        return _wrap("dict", [[_to_json(k), _to_json(v)] for k, v in value.items()])
    if kind is tuple:
        return _wrap("tuple", [_to_json(item) for item in value])
    if kind is set or kind is frozenset:
        try:
            items = sorted(value)  # a stable order when the items allow it
        except TypeError:
            items = list(value)
        return _wrap(kind.__name__, [_to_json(item) for item in items])
    if isinstance(value, dt.datetime):
        return _wrap("datetime", _time_payload(value))
    if isinstance(value, dt.date):
        return _wrap("date", value.isoformat())
    if isinstance(value, dt.time):
        return _wrap("time", _time_payload(value))
    if isinstance(value, dt.timedelta):
        return _wrap("timedelta", [value.days, value.seconds, value.microseconds])
    if isinstance(value, bytes | bytearray):
        import base64

        return _wrap(kind.__name__ if kind is bytearray else "bytes", base64.b64encode(value).decode())
    if isinstance(value, str):  # subclasses of the JSON scalars (a str enum, IntEnum...) as their base
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _to_json(float(value))
    decimal, uuid, numpy = (sys.modules.get(name) for name in ("decimal", "uuid", "numpy"))
    if decimal is not None and isinstance(value, decimal.Decimal):
        return _wrap("Decimal", str(value))
    if uuid is not None and isinstance(value, uuid.UUID):
        return _wrap("UUID", str(value))
    if numpy is not None and isinstance(value, numpy.generic):
        return _to_json(value.item())
    raise _Unsupported


def _time_payload(value: dt.datetime | dt.time) -> dict[str, Any] | str:
    text = value.isoformat()
    key = getattr(value.tzinfo, "key", None)
    if value.tzinfo is None and value.fold:
        return {"iso": text, "fold": 1}
    return {"iso": text, "tz": key} if isinstance(key, str) else text


def _find_unsupported(value: Any, path: str) -> tuple[str, Any]:
    """The path and the value of the first thing ``_to_json`` cannot store."""
    kind = type(value)
    children: list[tuple[str, Any]] = []
    if kind is dict:
        for key, item in value.items():
            children += [(f"{path}<key {key!r}>", key), (f"{path}[{key!r}]", item)]
    elif kind in (list, tuple):
        children = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    elif kind in (set, frozenset):
        children = [(f"{path}<item {item!r}>", item) for item in value]
    else:
        try:
            _to_json(value)
        except _Unsupported:
            return path, value
    for child_path, child in children:
        try:
            _to_json(child)
        except _Unsupported:
            return _find_unsupported(child, child_path)
    return path, value


def _from_json(obj: dict[str, Any]) -> Any:
    """``json.loads`` object hook: unwrap one typed value (its contents are already decoded)."""
    name = obj.get(MARKER)
    if name is None:
        return obj
    payload = obj["v"]
    if name == "dict":
        return dict(payload)
    if name in _COLLECTIONS:
        return _COLLECTIONS[name](payload)
    if name == "datetime" or name == "time":
        return _decode_time(name, payload)
    if name == "date":
        return dt.date.fromisoformat(payload)
    if name == "timedelta":
        return dt.timedelta(*payload)
    if name == "float":
        return float(payload)
    if name in ("bytes", "bytearray"):
        import base64

        raw = base64.b64decode(payload)
        return raw if name == "bytes" else bytearray(raw)
    if name == "Decimal":
        from decimal import Decimal

        return Decimal(payload)
    if name == "UUID":
        from uuid import UUID

        return UUID(payload)
    raise ValueError(f"cannot decode a value of unknown encoded type {name!r}")


_COLLECTIONS: dict[str, Any] = {"tuple": tuple, "set": set, "frozenset": frozenset}


def _decode_time(name: str, payload: str | dict[str, Any]) -> dt.datetime | dt.time:
    text = payload if isinstance(payload, str) else payload["iso"]
    value: dt.datetime | dt.time = (dt.datetime if name == "datetime" else dt.time).fromisoformat(text)
    if isinstance(payload, dict) and payload.get("fold"):
        value = value.replace(fold=1)
    if isinstance(payload, dict) and payload.get("tz"):
        from zoneinfo import ZoneInfo

        try:
            zone = ZoneInfo(payload["tz"])
        except (ValueError, LookupError):
            return value  # the zone is unknown here: keep the fixed offset
        if isinstance(value, dt.datetime):
            return value.astimezone(zone)
        return value.replace(tzinfo=zone)
    return value


# --- time zones and schedule deltas, as stored in serialized DAGs ----------------------------


def parse_timezone(value: str | int | dt.tzinfo) -> dt.tzinfo:
    """A tzinfo from an IANA name, ``UTC``, a ``+HH:MM`` offset, offset seconds, or a tzinfo.

    Raises ValueError naming the zone if it is unknown.
    """
    if isinstance(value, dt.tzinfo):
        return value
    if isinstance(value, int):
        return dt.timezone(dt.timedelta(seconds=value))
    text = value.strip()
    if text.upper() in ("UTC", "Z", "ETC/UTC"):
        return dt.timezone.utc
    if text[:1] in ("+", "-"):
        try:
            return dt.datetime.strptime(text, "%z").tzinfo or dt.timezone.utc
        except ValueError:
            pass
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: use an IANA name such as 'Europe/Berlin'") from None


def encode_timezone(tz: dt.tzinfo) -> str:
    """The name ``parse_timezone`` reads back: an IANA key, ``UTC`` or ``+HH:MM``."""
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if isinstance(key, str):
        return "UTC" if key in ("UTC", "Etc/UTC") else key
    offset = tz.utcoffset(None)
    if offset is None:
        raise ValueError(f"cannot store time zone {tz!r}: use an IANA name such as 'Europe/Berlin'")
    if not offset:
        return "UTC"
    sign, minutes = ("-" if offset < dt.timedelta(0) else "+"), abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


_RELATIVEDELTA_FIELDS = (
    "years", "months", "days", "leapdays", "hours", "minutes", "seconds", "microseconds",
    "year", "month", "day", "hour", "minute", "second", "microsecond",
)  # fmt: skip


def encode_delta(delta: dt.timedelta | relativedelta) -> float | dict[str, Any]:
    """A timedelta as seconds; a relativedelta as a dict of its set fields (as Airflow does)."""
    if isinstance(delta, dt.timedelta):
        return delta.total_seconds()
    out: dict[str, Any] = {f: getattr(delta, f) for f in _RELATIVEDELTA_FIELDS if getattr(delta, f)}
    if delta.weekday is not None:
        out["weekday"] = [delta.weekday.weekday, delta.weekday.n]
    return out


def decode_delta(data: float | dict[str, Any]) -> dt.timedelta | relativedelta:
    """Inverse of ``encode_delta``."""
    if not isinstance(data, dict):
        return dt.timedelta(seconds=data)
    from dateutil.relativedelta import relativedelta, weekday

    kwargs = dict(data)
    if "weekday" in kwargs:
        kwargs["weekday"] = weekday(*kwargs["weekday"])
    return relativedelta(**kwargs)


__all__ = [
    "MARKER",
    "SUPPORTED_TYPES",
    "decode",
    "decode_delta",
    "encode",
    "encode_delta",
    "encode_timezone",
    "parse_timezone",
]
