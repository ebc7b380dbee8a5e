"""The ``macros`` namespace that templates see: ``{{ macros.ds_add(ds, 5) }}``.

It holds Airflow's date helpers (``ds_add``, ``ds_format``, ``datetime_diff_for_humans``) and the
modules and objects Airflow exposes there: ``datetime`` (the class), ``timedelta``, ``dateutil``,
``time``, ``uuid``, ``random`` (the ``random.random`` function, as in Airflow) and ``json``.
"""

from __future__ import annotations

import json
import time
import types
import uuid
from datetime import datetime, timedelta, timezone
from random import random

import dateutil
import dateutil.parser
import dateutil.relativedelta
import dateutil.tz
from dateutil.relativedelta import relativedelta

__all__ = ["datetime_diff_for_humans", "ds_add", "ds_format", "macros"]


def ds_add(ds: str, days: int) -> str:
    """Add ``days`` (may be negative) to a ``YYYY-MM-DD`` date: ``ds_add("2015-01-01", 5)`` is 2015-01-06."""
    if not days:
        return str(ds)
    moved = datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)
    return moved.strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """Re-format a date string: ``ds_format("2015-01-01", "%Y-%m-%d", "%m-%d-%y")`` is ``"01-01-15"``."""
    return datetime.strptime(str(ds), input_format).strftime(output_format)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def datetime_diff_for_humans(dt: datetime, since: datetime | None = None) -> str:
    """A rough, readable difference such as ``"3 days ago"``, ``"in 2 hours"`` or ``"1 week before"``.

    Without ``since`` the difference is taken to now ("... ago" / "in ..."); with it, ``dt`` is
    described relative to ``since`` ("... before" / "... after"). The rounding follows
    pendulum's ``diff_for_humans``, which Airflow uses. Naive datetimes are taken as UTC.
    """
    is_now = since is None
    start = _aware(dt)
    other = datetime.now(timezone.utc) if since is None else _aware(since)
    is_future = start > other
    earlier, later = (other, start) if is_future else (start, other)
    delta = relativedelta(later, earlier)
    weeks, days = divmod(delta.days, 7)
    seconds = delta.seconds

    if delta.years > 0:
        unit, count = "year", delta.years + (1 if delta.months > 6 else 0)
    elif delta.months == 11 and delta.days > 15:
        unit, count = "year", 1
    elif delta.months > 0:
        unit, count = "month", delta.months + (1 if delta.days >= 27 else 0)
    elif weeks > 0:
        unit, count = "week", weeks + (1 if days > 3 else 0)
    elif days > 0:
        unit, count = "day", days + (1 if delta.hours >= 22 else 0)
    elif delta.hours > 0:
        unit, count = "hour", delta.hours
    elif delta.minutes > 0:
        unit, count = "minute", delta.minutes
    elif 10 < seconds <= 59:
        unit, count = "second", seconds
    else:
        unit, count = "", 0

    phrase = "a few seconds" if not unit else _plural(max(count, 1), unit)
    if is_now:
        return f"in {phrase}" if is_future else f"{phrase} ago"
    return f"{phrase} after" if is_future else f"{phrase} before"


macros = types.SimpleNamespace(
    ds_add=ds_add,
    ds_format=ds_format,
    datetime_diff_for_humans=datetime_diff_for_humans,
    datetime=datetime,
    timedelta=timedelta,
    dateutil=dateutil,
    time=time,
    uuid=uuid,
    random=random,
    json=json,
)
