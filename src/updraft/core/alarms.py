"""Time limits on code running in this process's main thread, enforced with SIGALRM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def raise_after(seconds: float | None, make_error: Callable[[], BaseException]) -> Iterator[None]:
    """Raise ``make_error()`` inside the block when ``seconds`` pass.

    None means no limit, a non-positive limit raises at once. Outside the main thread (where
    signals cannot be delivered) the block runs without a limit; the caller's process-level
    limit (the executor killing the process) still applies.
    """
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    if seconds <= 0:
        raise make_error()

    def on_alarm(signum: int, frame: Any) -> None:
        raise make_error()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
