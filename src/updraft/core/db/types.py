"""Column types of the metadata database that behave the same on SQLite and PostgreSQL.

- :class:`UtcDateTime`: timezone-aware datetimes, always stored and returned as UTC.
- :class:`JsonDict`: a JSON-serialisable value (dict, list, ...) stored as JSON text.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, Text, TypeDecorator

__all__ = ["JsonDict", "JsonText", "UtcDateTime", "utcnow"]


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive datetimes are refused.

    PostgreSQL stores ``TIMESTAMP WITH TIME ZONE``; SQLite stores the naive UTC wall time. Values
    read back are always aware and in UTC, whatever offset they were written with.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime column expects a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} cannot be stored: give it a timezone "
                "(e.g. datetime.now(timezone.utc))"
            )
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class JsonDict(TypeDecorator[Any]):
    """A JSON-serialisable Python value (usually a dict or list) stored as JSON text.

    ``None`` is stored as SQL NULL. Changing the value in place is not tracked: assign a new value.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot store {type(value).__name__} value as JSON: {exc}") from exc

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(value)


#: Another name for :class:`JsonDict`.
JsonText = JsonDict
