"""Built JSON answers kept while a cheap stamp of their source rows is unchanged.

A route reads a stamp (e.g. a row count and the latest ``updated_at``) in one small query; when
the stamp equals the one an answer was built for, that answer's bytes are served again instead
of reading and encoding every row. Each answer carries an ETag, so a client polling an unchanged
page gets a 304. Bounded (least recently used out first) and thread-safe; per process.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from fastapi import Request, Response, status

__all__ = ["StampedCache"]


class StampedCache:
    def __init__(self, size: int = 64) -> None:
        self._entries: OrderedDict[Hashable, tuple[Any, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def _get(self, key: Hashable, stamp: Any) -> tuple[bytes, str] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != stamp:
                return None
            self._entries.move_to_end(key)
            return found[1], found[2]

    def _put(self, key: Hashable, stamp: Any, payload: bytes, etag: str) -> None:
        with self._lock:
            self._entries[key] = (stamp, payload, etag)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def respond(self, request: Request, key: Hashable, stamp: Any, build: Callable[[], bytes]) -> Response:
        """The answer for ``key`` at ``stamp``: stored, or built by ``build()`` and stored; a 304
        when the request's ``If-None-Match`` names it."""
        found = self._get(key, stamp)
        if found is None:
            payload = build()
            found = payload, '"' + hashlib.blake2b(payload, digest_size=12).hexdigest() + '"'
            self._put(key, stamp, *found)
        payload, etag = found
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(payload, media_type="application/json", headers=headers)
