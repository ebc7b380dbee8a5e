"""HTTP provider: ``HttpHook`` (requests with retries, on httpx) and ``HttpOperator``.

``HttpSensor`` is an operator built on the sensor base: ``from updraft.operators.sensors.http import HttpSensor``.
"""

from __future__ import annotations

from updraft.providers.http.hooks import HttpError, HttpHook, HttpStatusError
from updraft.providers.http.operators import HttpOperator, SimpleHttpOperator

__all__ = ["HttpError", "HttpHook", "HttpOperator", "HttpStatusError", "SimpleHttpOperator"]
