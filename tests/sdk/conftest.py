"""Fixtures for the SDK tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from updraft.sdk import timetables


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Call ``now(datetime)`` to freeze the clock the timetables read."""

    def freeze(at: dt.datetime) -> None:
        monkeypatch.setattr(timetables, "_utcnow", lambda: at)

    return freeze
