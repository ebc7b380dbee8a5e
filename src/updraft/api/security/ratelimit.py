"""In-memory limit of failed logins per username and per client address (sliding window).

After ``limit`` failures within ``window`` seconds on one key, further attempts on that key get a
429 with ``Retry-After`` until the oldest failure leaves the window. Per process: with several
API workers each counts on its own.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterable

__all__ = ["LoginRateLimiter", "login_keys"]


def login_keys(username: str | None, client_ip: str | None) -> list[str]:
    keys = []
    if username:
        keys.append(f"user:{username.lower()}")
    if client_ip:
        keys.append(f"ip:{client_ip}")
    return keys


class LoginRateLimiter:
    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Seconds to wait if any key is over the limit, else None."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._prune(key, now)
                if len(times) >= self.limit:
                    wait = max(wait, times[-self.limit] + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, keys: Iterable[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        """Forget the failures of this username (not of the address)."""
        with self._lock:
            self._failures.pop(f"user:{username.lower()}", None)
