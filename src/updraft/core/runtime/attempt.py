"""Running one attempt of one task instance in this process, and deciding what became of it.

The user's code (templates, callbacks, ``execute``) runs inside a boundary: whatever it raises
is recorded as the attempt's failure with the user's traceback in the attempt log, and never
escapes as an updraft error. A callback that raises is logged and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from updraft.core.alarms import raise_after
from updraft.core.runtime.alerts import send_alert_email
from updraft.core.runtime.context import build_context
from updraft.core.runtime.task_instance import RuntimeTaskInstance
from updraft.sdk.abstractoperator import AbstractOperator
from updraft.sdk.assets import AssetKey
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.current_context import current_context
from updraft.sdk.exceptions import (
    MapLengthError,
    UpdraftException,
    UpdraftFailException,
    UpdraftRescheduleException,
    UpdraftSkipException,
    UpdraftTaskTimeout,
    XComValueError,
)
from updraft.sdk.mapping import MappedOperator
from updraft.sdk.masking import redact
from updraft.sdk.states import TaskInstanceState as TI
from updraft.sdk.xcom_arg import RETURN_VALUE_KEY

log = logging.getLogger("updraft.task")
MAX_RENDERED_CHARS = 10_000


@dataclass
class AttemptOutcome:
    state: TI
    start_date: datetime
    end_date: datetime
    error: str | None = None
    next_retry_at: datetime | None = None
    #: When a sensor in reschedule mode asked to be run again (state UP_FOR_RESCHEDULE).
    reschedule_at: datetime | None = None
    pushed: dict[str, str] = field(default_factory=dict)
    skipped_downstream: set[str] = field(default_factory=set)
    rendered_fields: dict[str, Any] | None = None
    #: The extra data the task attached to the events of its outlet assets (only on success).
    asset_extras: dict[AssetKey, dict[str, Any]] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return (self.end_date - self.start_date).total_seconds()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def retry_delay(
    task: Any, try_number: int, dag_id: str, run_id: str, max_delay_cap: timedelta | None = None
) -> timedelta:
    """The wait before the next try after try ``try_number`` failed (Airflow's backoff rule)."""
    delay: timedelta = task.retry_delay  # type: ignore[attr-defined]
    if getattr(task, "retry_exponential_backoff", False):
        # Round the scaled delay up first, then floor it at 1 s (a sub-second or zero base grows from
        # 1 s only once the scaled value passes it, as in Airflow).
        min_backoff = max(math.ceil(delay.total_seconds() * 2 ** (try_number - 1)), 1)
        # Deterministic jitter in [min_backoff, 2*min_backoff), so retries of many tasks spread out.
        seed = int(hashlib.sha1(f"{dag_id}#{task.task_id}#{run_id}#{try_number}".encode()).hexdigest(), 16)
        delay = timedelta(seconds=min_backoff + seed % min_backoff)
        max_retry_delay = getattr(task, "max_retry_delay", None)
        if max_retry_delay is not None:
            delay = min(delay, max_retry_delay)
    if max_delay_cap is not None:
        delay = min(delay, max_delay_cap)
    return delay


def execution_timeout(seconds: float | None, task_id: str) -> AbstractContextManager[None]:
    """Raise UpdraftTaskTimeout in this (main) thread when ``seconds`` pass (at once if not positive)."""
    return raise_after(
        seconds,
        lambda: UpdraftTaskTimeout(f"task {task_id!r} ran longer than its execution_timeout of {seconds:g}s"),
    )


def _run_callbacks(callbacks: list[Callable[..., Any]], context: Any, kind: str) -> None:
    for callback in callbacks:
        try:
            callback(context)
        except Exception:
            log.exception("%s %r raised; the task's state is unchanged", kind, callback)


def _json_safe(value: Any) -> Any:
    """A rendered field as stored for the UI: plain JSON when it is, else its repr (truncated)."""
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        try:
            if len(json.dumps(value)) <= MAX_RENDERED_CHARS:
                return value
        except (TypeError, ValueError):
            pass
    rendered = value if isinstance(value, str) else repr(value)
    return rendered[:MAX_RENDERED_CHARS]


def _check_mapping_source(task: AbstractOperator, pushed: dict[str, Any], max_map_length: int) -> None:
    """A value that a downstream task maps over must be a list or dict within max_map_length.

    Only an unmapped producer is checked: the instances of a mapped producer each give one item of
    the list the mapped task downstream expands over (checked against the limit when it expands).
    """
    if task.is_mapped:
        return
    for dependant in task.iter_mapped_dependants():
        for ref in dependant.iter_expansion_references():
            if ref.operator is not task:
                continue
            if ref.key not in pushed or pushed[ref.key] is None:
                raise UpdraftException(
                    f"task {task.task_id!r} feeds mapped task {dependant.task_id!r} but pushed no "
                    f"{ref.key!r} XCom to map over; return a list or dict"
                )
            value = pushed[ref.key]
            if not isinstance(value, (list, tuple, dict)):
                raise UpdraftException(
                    f"task {task.task_id!r} feeds mapped task {dependant.task_id!r} but returned a "
                    f"{type(value).__name__}; a mapped task needs a list or dict"
                )
            if len(value) > max_map_length:
                raise MapLengthError(
                    f"task {task.task_id!r} returned {len(value)} items for mapped task "
                    f"{dependant.task_id!r}, over the limit of {max_map_length} (core.max_map_length)"
                )


def _result_xcoms(op: BaseOperator, result: Any) -> dict[str, Any]:
    """The XComs a return value makes (return_value, plus each key with multiple_outputs)."""
    values: dict[str, Any] = {}
    if not op.do_xcom_push or result is None:
        return values
    if op.multiple_outputs:
        if not isinstance(result, dict):
            raise XComValueError(
                f"task {op.task_id!r} has multiple_outputs=True but returned a {type(result).__name__}, "
                "not a dict"
            )
        for key, value in result.items():
            if not isinstance(key, str):
                raise XComValueError(
                    f"task {op.task_id!r} has multiple_outputs=True, so the keys of its result must be "
                    f"strings; found {key!r} ({type(key).__name__})"
                )
            values[key] = value
    values[RETURN_VALUE_KEY] = result
    return values


def run_attempt(
    task: AbstractOperator,
    ti: RuntimeTaskInstance,
    params: dict[str, Any],
    *,
    prev_success: dict[str, datetime | None] | None = None,
    max_map_length: int = 1024,
    max_retry_delay: timedelta | None = None,
    mapped_kwargs: dict[str, Any] | None = None,
    test_mode: bool = False,
) -> AttemptOutcome:
    """Run one try of ``task`` (logs go wherever the caller routed logging) and classify it."""
    start = utcnow()
    ti.start_date = start
    state = TI.SUCCESS
    error: str | None = None
    raised: BaseException | None = None
    context: Any = None
    op: BaseOperator | None = None
    rendered: dict[str, Any] | None = None
    reschedule_at: datetime | None = None
    log.info("Starting %s (try %d of %d)", ti, ti.try_number, ti.max_tries + 1)
    try:
        if isinstance(task, MappedOperator):
            if mapped_kwargs is None:
                lookup = build_context(task, ti, params, prev_success, test_mode)
                mapped_kwargs = task.expand_kwargs_at_runtime(lookup, max_map_length)[ti.map_index]
            op = task.unmap(mapped_kwargs)
        else:
            assert isinstance(task, BaseOperator)
            op = task.prepare_for_execution()
        ti.task = op
        context = build_context(op, ti, params, prev_success, test_mode)
        if op.template_fields:
            op.render_template_fields(context)
            # Stored for the UI with registered secrets (and fields named like secrets) hidden.
            rendered = redact({name: _json_safe(getattr(op, name, None)) for name in op.template_fields})
        with current_context(context):
            op.pre_execute(context)
            _run_callbacks(op.on_execute_callback, context, "on_execute_callback")
            timeout = op.execution_timeout.total_seconds() if op.execution_timeout is not None else None
            try:
                with execution_timeout(timeout, op.task_id):
                    result = op.execute(context)
            except UpdraftTaskTimeout:
                op.on_kill()
                raise
            op.post_execute(context, result)
        result_xcoms = _result_xcoms(op, result)
        # A value that cannot feed the mapped tasks downstream fails the task before it is pushed.
        _check_mapping_source(task, result_xcoms, max_map_length)
        for key, value in result_xcoms.items():
            ti.xcom_push(key, value)
    except UpdraftSkipException as exc:
        state = TI.SKIPPED
        log.info("Task skipped: %s", exc or type(exc).__name__)
        raised = exc
    except UpdraftRescheduleException as exc:
        # Not a finished try: the same try runs again at reschedule_at (Airflow 3 keeps try_number).
        state = TI.UP_FOR_RESCHEDULE
        when = exc.reschedule_date
        reschedule_at = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
        log.info("Rescheduling task, marking it UP_FOR_RESCHEDULE until %s", reschedule_at.isoformat())
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user-code boundary
        raised = exc
        error = redact(f"{type(exc).__name__}: {exc}")  # the try history never shows a secret
        log.error("Task failed with exception\n%s", "".join(traceback.format_exception(exc)).rstrip())
        retriable = not isinstance(exc, UpdraftFailException) and ti.try_number <= ti.max_tries
        state = TI.UP_FOR_RETRY if retriable else TI.FAILED
    end = utcnow()
    outcome = AttemptOutcome(
        state=state,
        start_date=start,
        end_date=end,
        error=error,
        rendered_fields=rendered,
        reschedule_at=reschedule_at,
    )
    if state is TI.UP_FOR_RETRY:
        outcome.next_retry_at = end + retry_delay(task, ti.try_number, ti.dag_id, ti.run_id, max_retry_delay)
        log.info("Marking for retry at %s", outcome.next_retry_at.isoformat())
    # What ti.xcom_push stored stays, whatever the outcome (Airflow writes each push at once); the
    # next try starts with the task instance's XComs cleared.
    outcome.pushed = dict(ti.pushed)
    if state is TI.SUCCESS:
        outcome.skipped_downstream = set(ti.skipped_downstream)
        try:
            outcome.asset_extras = ti.outlet_events.extras()
        except UpdraftException as exc:  # the user's outlet_events[...].extra is not JSON
            log.error("the asset events are recorded without their extra: %s", exc)
    # Callbacks see the outcome on the ti, as in Airflow.
    ti.state, ti.end_date = state, end
    send_alert_email(op or task, ti, state, raised)  # email_on_failure / email_on_retry
    _finish_callbacks(op or task, context, state, raised)
    log.info("Finished %s with state %s after %.3fs", ti, state.value, outcome.duration)
    return outcome


def _finish_callbacks(op: AbstractOperator, context: Any, state: TI, raised: BaseException | None) -> None:
    if context is None or state is TI.UP_FOR_RESCHEDULE:  # Airflow calls no callback on a reschedule
        return
    # Airflow sets "exception" for every outcome: the error of a failed try, else None (a skip is no error).
    context["exception"] = raised if state in (TI.FAILED, TI.UP_FOR_RETRY) else None
    names = {
        TI.SUCCESS: "on_success_callback",
        TI.FAILED: "on_failure_callback",
        TI.UP_FOR_RETRY: "on_retry_callback",
        TI.SKIPPED: "on_skipped_callback",
    }
    name = names[state]
    with current_context(context):
        _run_callbacks(getattr(op, name, []) or [], context, name)
