"""``TriggerDagRunOperator``: create a run of another DAG, and optionally wait for it to finish.

The run is created through ``updraft.sdk.runtime_services`` (the runtime validates ``conf``
against the target DAG's params, stores a queued manual run and wakes the scheduler). As in
Airflow 3, the task pushes the target's dag_id and run_id as the ``trigger_dag_id`` and
``trigger_run_id`` XComs; a run that already exists fails the task (or skips it with
``skip_when_already_exists``; ``reset_dag_run`` clears it to run again instead), and so does a
waited-for run that ends in one of ``failed_states``. Those failures are not retried.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar

from updraft.operators.deferrable import accept_deferrable
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.exceptions import (
    ParamValidationError,
    UpdraftException,
    UpdraftFailException,
    UpdraftSkipException,
)
from updraft.sdk.params import NOTSET
from updraft.sdk.runtime_services import DagRunAlreadyExists, UnknownDagError, get_services
from updraft.sdk.settings import settings
from updraft.sdk.states import DagRunState, DagRunType

__all__ = ["XCOM_DAG_ID", "XCOM_RUN_ID", "DagIsPaused", "TriggerDagRunOperator"]

XCOM_RUN_ID = "trigger_run_id"
XCOM_DAG_ID = "trigger_dag_id"


class DagIsPaused(UpdraftException):
    """``fail_when_dag_is_paused``: the DAG to trigger is paused."""


def _run_states(values: Iterable[Any] | None, default: list[str], name: str, task_id: str) -> list[str]:
    if values is None:
        return default
    states = [str(getattr(value, "value", value)) for value in values]
    valid = {state.value for state in DagRunState}
    wrong = [state for state in states if state not in valid]
    if wrong:
        raise ValueError(
            f"task {task_id!r}: {name} has {', '.join(map(repr, wrong))}, not DAG run state(s); "
            f"use {', '.join(sorted(valid))}"
        )
    return states


def _as_bool(value: Any) -> bool:
    """A rendered template field meant as a flag ("True"/"false" strings included)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=settings.default_timezone)


class TriggerDagRunOperator(BaseOperator):
    """Trigger a run of ``trigger_dag_id`` (templated), with ``conf`` (templated) as its run conf."""

    template_fields: ClassVar[Sequence[str]] = (
        "trigger_dag_id",
        "trigger_run_id",
        "logical_date",
        "conf",
        "wait_for_completion",
        "skip_when_already_exists",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"conf": "py"}
    ui_color: ClassVar[str] = "#ffefeb"

    def __init__(
        self,
        *,
        trigger_dag_id: str,
        trigger_run_id: str | None = None,
        conf: dict[str, Any] | None = None,
        logical_date: str | datetime | None = NOTSET,
        reset_dag_run: bool = False,
        wait_for_completion: bool = False,
        poke_interval: float = 60,
        allowed_states: Iterable[str] | None = None,
        failed_states: Iterable[str] | None = None,
        skip_when_already_exists: bool = False,
        fail_when_dag_is_paused: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        task_id = self.task_id
        self.deferrable = accept_deferrable(self, deferrable)
        if (
            logical_date is not NOTSET
            and logical_date is not None
            and not isinstance(logical_date, (str, datetime))
        ):
            raise TypeError(
                f"task {task_id!r}: logical_date must be a string, a datetime or None, "
                f"got {type(logical_date).__name__}"
            )
        if (
            isinstance(poke_interval, bool)
            or not isinstance(poke_interval, (int, float))
            or poke_interval < 0
        ):
            raise ValueError(
                f"task {task_id!r}: poke_interval must be a non-negative number, got {poke_interval!r}"
            )
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        self.logical_date = logical_date
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = float(poke_interval)
        self.allowed_states = _run_states(
            allowed_states, [DagRunState.SUCCESS.value], "allowed_states", task_id
        )
        self.failed_states = _run_states(failed_states, [DagRunState.FAILED.value], "failed_states", task_id)
        self.skip_when_already_exists = skip_when_already_exists
        self.fail_when_dag_is_paused = fail_when_dag_is_paused

    def _parsed_logical_date(self) -> datetime | None:
        value = self.logical_date
        if value is NOTSET:
            return datetime.now(timezone.utc)
        if value is None or isinstance(value, datetime):
            return _aware(value) if value is not None else None
        if isinstance(value, str):
            try:
                return _aware(datetime.fromisoformat(value.strip()))
            except ValueError:
                raise ValueError(
                    f"task {self.task_id!r}: logical_date {value!r} is not an ISO 8601 date and time"
                ) from None
        raise TypeError(f"task {self.task_id!r}: logical_date rendered to a {type(value).__name__}")

    def execute(self, context: Any) -> None:
        dag_id = str(self.trigger_dag_id)
        logical_date = self._parsed_logical_date()
        try:
            json.dumps(self.conf)
        except (TypeError, ValueError):
            raise ValueError(
                f"task {self.task_id!r}: conf must be JSON-serializable, got {self.conf!r}"
            ) from None
        if self.trigger_run_id:
            run_id = str(self.trigger_run_id)
        else:
            stamp = logical_date or datetime.now(timezone.utc)
            run_id = DagRunType.MANUAL.generate_run_id(stamp.isoformat())
        services = get_services()
        if self.fail_when_dag_is_paused:
            stored = services.get_stored_dag(dag_id)
            if stored is not None and stored.is_paused:
                raise DagIsPaused(f"task {self.task_id!r}: DAG {dag_id!r} is paused")
        ti = context["ti"]
        ti.xcom_push(key=XCOM_DAG_ID, value=dag_id)
        self.log.info("Triggering DAG %s with run_id %s", dag_id, run_id)
        try:
            run_id = services.trigger_dag_run(
                dag_id,
                run_id=run_id,
                logical_date=logical_date,
                conf=self.conf,
                replace_existing=self.reset_dag_run,
                triggered_by="operator",
            )
        except DagRunAlreadyExists as exc:
            if _as_bool(self.skip_when_already_exists):
                raise UpdraftSkipException(f"the DAG run already exists, skipping: {exc}") from None
            raise UpdraftFailException(f"task {self.task_id!r} cannot trigger {dag_id!r}: {exc}") from None
        except ParamValidationError as exc:
            raise UpdraftFailException(
                f"task {self.task_id!r}: conf does not match the params of DAG {dag_id!r}: {exc}"
            ) from None
        except UnknownDagError as exc:
            raise UpdraftException(f"task {self.task_id!r} cannot trigger {dag_id!r}: {exc}") from None
        ti.xcom_push(key=XCOM_RUN_ID, value=run_id)
        if _as_bool(self.wait_for_completion):
            self._wait(services, dag_id, run_id)

    def _wait(self, services: Any, dag_id: str, run_id: str) -> None:
        while True:
            self.log.info("Waiting for DAG %s run %s to reach one of %s", dag_id, run_id, self.allowed_states)
            time.sleep(self.poke_interval)
            state = services.get_dag_run_state(dag_id, run_id)
            if state in self.failed_states:
                raise UpdraftFailException(
                    f"task {self.task_id!r}: the triggered run {run_id!r} of DAG {dag_id!r} ended {state}"
                )
            if state in self.allowed_states:
                self.log.info("DAG %s run %s finished with allowed state %s", dag_id, run_id, state)
                return
            if state is None:
                raise UpdraftException(
                    f"task {self.task_id!r}: the triggered run {run_id!r} of {dag_id!r} is gone"
                )
