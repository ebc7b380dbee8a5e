"""HTTP provider: ``HttpHook`` (requests with retries, on httpx) and ``HttpOperator``."""

from updraft.providers.http.hooks import HttpError, HttpHook, HttpStatusError
from updraft.providers.http.operators import HttpOperator, SimpleHttpOperator

__all__ = ["HttpError", "HttpHook", "HttpOperator", "HttpStatusError", "SimpleHttpOperator"]
