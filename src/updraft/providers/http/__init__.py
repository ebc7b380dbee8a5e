"""HTTP provider: ``HttpHook`` (requests with retries, on httpx), ``HttpOperator`` and ``HttpSensor``.

``HttpSensor`` is imported on first use: it is built on the sensor base of ``updraft.operators``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from updraft.providers.http.hooks import HttpError, HttpHook, HttpStatusError
from updraft.providers.http.operators import HttpOperator, SimpleHttpOperator

if TYPE_CHECKING:
    from updraft.providers.http.sensors import HttpSensor

__all__ = ["HttpError", "HttpHook", "HttpOperator", "HttpSensor", "HttpStatusError", "SimpleHttpOperator"]


def __getattr__(name: str) -> Any:
    if name == "HttpSensor":
        value = importlib.import_module("updraft.providers.http.sensors").HttpSensor
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
