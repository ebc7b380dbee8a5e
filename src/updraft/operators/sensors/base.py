"""``BaseSensorOperator``: wait for a condition by calling ``poke(context)`` until it holds.

Two modes, as in Airflow:

- ``poke`` (the default): the sensor holds its worker and sleeps ``poke_interval`` between pokes;
  ``timeout`` is measured from the first poke of this attempt.
- ``reschedule``: one poke per attempt; while the condition does not hold the sensor raises
  ``UpdraftRescheduleException`` and the runtime marks it ``up_for_reschedule`` (same try number)
  until the next poke is due. ``timeout`` is measured from the first poke of the current try, which
  the runtime remembers in the ``task_reschedule`` table.

On timeout the sensor fails with ``UpdraftSensorTimeout`` (not retried) or, with ``soft_fail``,
is skipped. ``exponential_backoff`` grows the interval between pokes as Airflow does
(:func:`backoff_poke_interval`). ``poke`` may return a :class:`PokeReturnValue` to push an XCom.
``deferrable=True`` is accepted and ignored: the sensor pokes as usual (see ``operators.deferrable``).
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from updraft.operators.deferrable import accept_deferrable
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.exceptions import (
    UpdraftFailException,
    UpdraftRescheduleException,
    UpdraftSensorTimeout,
    UpdraftSkipException,
    UpdraftTaskTimeout,
)
from updraft.sdk.runtime_services import get_services

__all__ = ["DEFAULT_SENSOR_TIMEOUT", "BaseSensorOperator", "PokeReturnValue", "backoff_poke_interval"]

#: Airflow's ``[sensors] default_timeout``: seven days.
DEFAULT_SENSOR_TIMEOUT = 7 * 24 * 60 * 60.0
VALID_MODES = ("poke", "reschedule")
#: Raised by poke(): soft_fail (or never_fail) turns these into a skip.
_SOFT_FAIL_EXCEPTIONS = (UpdraftSensorTimeout, UpdraftTaskTimeout, UpdraftFailException)
_MAX_SECONDS = timedelta.max.total_seconds() - 1


class PokeReturnValue:
    """What ``poke`` may return: whether the sensor is done, and an XCom value to push when it is."""

    def __init__(self, is_done: bool, xcom_value: Any | None = None) -> None:
        self.is_done = is_done
        self.xcom_value = xcom_value

    def __bool__(self) -> bool:
        return bool(self.is_done)

    def __repr__(self) -> str:
        return f"PokeReturnValue(is_done={self.is_done!r}, xcom_value={self.xcom_value!r})"


def _jittered(poke_interval: float, poke_count: int, key: str) -> float:
    """Airflow's backoff step: ``min_backoff`` (at least 1 s) plus a deterministic jitter below it."""
    min_backoff = max(int(poke_interval * (2 ** (poke_count - 2))), 1)
    digest = int(hashlib.sha1(f"{key}#{poke_count}".encode(), usedforsecurity=False).hexdigest(), 16)
    return min(min_backoff + digest % min_backoff, _MAX_SECONDS)


def backoff_poke_interval(
    *,
    poke_interval: float,
    timeout: float,
    poke_count: int,
    elapsed: float,
    key: str,
    max_wait: float | None = None,
    reschedule: bool = False,
) -> float:
    """Seconds to wait before the next poke with exponential backoff, as Airflow computes it.

    ``key`` identifies the sensor's wait (``dag_id#task_id#started_at``) and seeds the jitter, so
    many sensors started together spread out. In reschedule mode, where no poke count survives
    between attempts, the count is estimated by replaying the intervals up to ``elapsed``. The
    result never goes past the timeout nor past ``max_wait``.
    """
    if reschedule:
        cumulative, estimated = 0.0, 0
        while cumulative <= elapsed:
            estimated += 1
            cumulative += _jittered(poke_interval, estimated, key)
        poke_count = estimated or poke_count
    interval = min(timeout - int(elapsed), _jittered(poke_interval, poke_count, key))
    if max_wait:
        interval = min(max_wait, interval)
    return max(float(interval), 0.0)


def _seconds(value: Any, name: str, task_id: str) -> float:
    """A non-negative number of seconds from a number or a timedelta; errors name the task."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(
            f"sensor {task_id!r}: {name} must be a timedelta or a non-negative number of seconds, "
            f"got {value!r}"
        )
    if seconds < 0:
        raise ValueError(f"sensor {task_id!r}: {name} must not be negative, got {value!r}")
    return seconds


class BaseSensorOperator(BaseOperator):
    """Subclass and implement ``poke(context)``: return True (or a PokeReturnValue) once done."""

    ui_color: ClassVar[str] = "#e6f1f2"
    valid_modes: ClassVar[Sequence[str]] = VALID_MODES
    is_sensor: ClassVar[bool] = True

    def __init__(
        self,
        *,
        poke_interval: timedelta | float = 60,
        timeout: timedelta | float | None = None,
        soft_fail: bool = False,
        mode: str = "poke",
        exponential_backoff: bool = False,
        max_wait: timedelta | float | None = None,
        silent_fail: bool = False,
        never_fail: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        task_id = self.task_id
        self.deferrable = accept_deferrable(self, deferrable)
        self.poke_interval = _seconds(poke_interval, "poke_interval", task_id)
        self.timeout = _seconds(DEFAULT_SENSOR_TIMEOUT if timeout is None else timeout, "timeout", task_id)
        self.max_wait = None if max_wait is None else _seconds(max_wait, "max_wait", task_id)
        if mode not in self.valid_modes:
            where = f"{self.dag_id}.{task_id}" if self.has_dag() else task_id
            raise ValueError(
                f"sensor {where!r}: mode must be one of {', '.join(self.valid_modes)}, got {mode!r}"
            )
        if soft_fail and never_fail:
            raise ValueError(f"sensor {task_id!r}: soft_fail and never_fail cannot both be set")
        self.mode = mode
        self.soft_fail = soft_fail
        self.exponential_backoff = exponential_backoff
        self.silent_fail = silent_fail
        self.never_fail = never_fail

    @property
    def reschedule(self) -> bool:
        """Whether the sensor frees its worker between pokes."""
        return self.mode == "reschedule"

    def poke(self, context: Any) -> bool | PokeReturnValue:
        """Check the condition once; True (or a done PokeReturnValue) ends the wait."""
        raise NotImplementedError(f"{type(self).__name__} must implement poke(context)")

    # -- running -------------------------------------------------------------------------------

    def execute(self, context: Any) -> Any:
        elapsed: Callable[[], float]
        if self.reschedule:
            ti = context["ti"]
            first = get_services().first_reschedule_start(
                ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number
            )
            started_at: datetime = first or datetime.now(timezone.utc)
            key_start = started_at.isoformat()

            def elapsed() -> float:
                # Pokes happen in different attempts: measure from the stored first poke.
                return (datetime.now(timezone.utc) - started_at).total_seconds()

        else:
            start_monotonic = time.monotonic()
            key_start = repr(start_monotonic)

            def elapsed() -> float:
                return time.monotonic() - start_monotonic

        key = f"{self.dag_id}#{self.task_id}#{key_start}"
        poke_count = 1
        while True:
            result = self._poke_once(context)
            if result:
                self.log.info("Success criteria met. Exiting.")
                return result.xcom_value if isinstance(result, PokeReturnValue) else None
            duration = elapsed()
            if duration > self.timeout:
                message = (
                    f"sensor {self.task_id!r} timed out: it has waited {duration:.1f}s, more than its "
                    f"timeout of {self.timeout:g}s"
                )
                if self.soft_fail:
                    raise UpdraftSkipException(message)
                raise UpdraftSensorTimeout(message)
            interval = self._next_interval(poke_count, duration, key)
            remaining = self.timeout - duration
            if remaining < interval:
                # Waiting past the timeout gains nothing: poke once more as it expires (Airflow
                # sleeps the whole poke_interval first, so timeout=1 with the default 60 s took 60 s).
                interval = max(remaining, 0.0) + 0.01
            if self.reschedule:
                raise UpdraftRescheduleException(datetime.now(timezone.utc) + timedelta(seconds=interval))
            self.log.info("Condition not met; poking again in %gs", interval)
            time.sleep(interval)
            poke_count += 1

    def _poke_once(self, context: Any) -> bool | PokeReturnValue:
        """One poke, with soft_fail / silent_fail / never_fail applied to what it raises."""
        try:
            return self.poke(context)
        except _SOFT_FAIL_EXCEPTIONS as exc:
            if self.soft_fail:
                raise UpdraftSkipException(f"skipping sensor {self.task_id!r} (soft_fail): {exc}") from exc
            if self.never_fail:
                raise UpdraftSkipException(f"skipping sensor {self.task_id!r} (never_fail): {exc}") from exc
            raise
        except (UpdraftSkipException, UpdraftRescheduleException):
            raise
        except Exception as exc:
            if self.silent_fail:
                self.log.error("Sensor poke failed; poking again later:\n%s", traceback.format_exc())
                return False
            if self.never_fail:
                raise UpdraftSkipException(f"skipping sensor {self.task_id!r} (never_fail): {exc}") from exc
            raise

    def _next_interval(self, poke_count: int, elapsed: float, key: str) -> float:
        if not self.exponential_backoff:
            return self.poke_interval
        interval = backoff_poke_interval(
            poke_interval=self.poke_interval,
            timeout=self.timeout,
            poke_count=poke_count,
            elapsed=elapsed,
            key=key,
            max_wait=self.max_wait,
            reschedule=self.reschedule,
        )
        self.log.info("New %s interval is %gs", self.mode, interval)
        return interval
