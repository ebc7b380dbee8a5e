"""Shared by the timetable tests: aware UTC datetimes."""

from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)  # type: ignore[misc]
