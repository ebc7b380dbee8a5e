"""``airflow.utils.timezone`` / ``airflow.sdk.timezone``: aware datetimes in UTC or the DAG's zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil import parser as _date_parser

from updraft.sdk.settings import settings

utc = dt.timezone.utc


def _default_zone() -> dt.tzinfo:
    return settings.default_timezone


def utcnow() -> dt.datetime:
    """Now, aware, in UTC."""
    return dt.datetime.now(utc)


def is_localized(value: dt.datetime) -> bool:
    return value.utcoffset() is not None


def is_naive(value: dt.datetime) -> bool:
    return value.utcoffset() is None


def make_aware(value: dt.datetime, timezone: dt.tzinfo | None = None) -> dt.datetime:
    """``value`` (naive) read as a time in ``timezone`` (default: the configured zone)."""
    if is_localized(value):
        raise ValueError(f"make_aware expects a naive datetime, got {value}")
    return value.replace(tzinfo=timezone or _default_zone())


def make_naive(value: dt.datetime, timezone: dt.tzinfo | None = None) -> dt.datetime:
    """``value`` (aware) as a naive time in ``timezone`` (default: the configured zone)."""
    if is_naive(value):
        raise ValueError("make_naive() cannot be applied to a naive datetime")
    return value.astimezone(timezone or _default_zone()).replace(tzinfo=None)


def convert_to_utc(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` in UTC; a naive value is read in the configured zone first."""
    if value is None:
        return None
    if is_naive(value):
        value = make_aware(value)
    return value.astimezone(utc)


def coerce_datetime(value: dt.datetime | None, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """``value`` made aware (naive values read in ``tz`` or UTC)."""
    if value is None or is_localized(value):
        return value
    return value.replace(tzinfo=tz or utc)


def datetime(*args: Any, **kwargs: Any) -> dt.datetime:
    """``datetime.datetime(...)`` that is aware: in the configured zone unless tzinfo is given."""
    kwargs.setdefault("tzinfo", _default_zone())
    return dt.datetime(*args, **kwargs)


def parse(string: str, timezone: dt.tzinfo | None = None) -> dt.datetime:
    """A date/time string as an aware datetime (naive strings read in ``timezone`` or the default)."""
    value = (
        _date_parser.isoparse(string) if "T" in string or len(string) == 10 else _date_parser.parse(string)
    )
    return value if is_localized(value) else value.replace(tzinfo=timezone or _default_zone())


def local_timezone() -> dt.tzinfo:
    """The configured default zone."""
    return _default_zone()


def __getattr__(name: str) -> Any:
    if name == "TIMEZONE":
        return _default_zone()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
