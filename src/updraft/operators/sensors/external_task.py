"""``ExternalTaskSensor``: wait for another DAG's run, tasks or TaskGroup at the same logical date;
``ExternalTaskMarker``: the other end, so that clearing with dependent DAGs follows it.

The counts come from the metadata DB through ``updraft.sdk.runtime_services``. Airflow's rules:

- the logical dates looked at are this run's (``logical_date``, else ``run_after``), shifted back
  by ``execution_delta`` or computed by ``execution_date_fn``;
- any external task (or run) in ``failed_states`` fails the sensor at once (skips it with
  ``soft_fail``), any in ``skipped_states`` skips it;
- the wait ends when every external task (or run) at every date is in ``allowed_states``; a run
  that does not exist yet just means "not yet", until the timeout.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from updraft.operators.deferrable import accept_deferrable
from updraft.operators.empty import EmptyOperator
from updraft.operators.python import determine_kwargs
from updraft.operators.sensors.base import BaseSensorOperator
from updraft.sdk.exceptions import UpdraftException, UpdraftSkipException
from updraft.sdk.runtime_services import RuntimeServices, get_services
from updraft.sdk.settings import settings
from updraft.sdk.states import DagRunState, TaskInstanceState

__all__ = [
    "ExternalDagDeletedError",
    "ExternalDagFailedError",
    "ExternalDagNotFoundError",
    "ExternalTaskFailedError",
    "ExternalTaskGroupFailedError",
    "ExternalTaskGroupNotFoundError",
    "ExternalTaskMarker",
    "ExternalTaskNotFoundError",
    "ExternalTaskSensor",
]

TASK_STATES = frozenset(state.value for state in TaskInstanceState)
DAG_STATES = frozenset(state.value for state in DagRunState)


class ExternalDagNotFoundError(UpdraftException):
    """check_existence: the external DAG is not in the metadata DB."""


class ExternalDagDeletedError(UpdraftException):
    """check_existence: the external DAG's file is gone."""


class ExternalTaskNotFoundError(UpdraftException):
    """check_existence: the external DAG has no such task."""


class ExternalTaskGroupNotFoundError(UpdraftException):
    """check_existence: the external DAG has no such TaskGroup."""


class ExternalDagFailedError(UpdraftException):
    """The external DAG run reached one of ``failed_states``."""


class ExternalTaskFailedError(UpdraftException):
    """An external task reached one of ``failed_states``."""


class ExternalTaskGroupFailedError(UpdraftException):
    """A task of the external TaskGroup reached one of ``failed_states``."""


def _state_values(states: Iterable[Any] | None) -> list[str]:
    return [str(getattr(state, "value", state)) for state in states or ()]


class ExternalTaskSensor(BaseSensorOperator):
    """Wait for a DAG run, task(s) or a TaskGroup of ``external_dag_id`` (all templated)."""

    template_fields: ClassVar[Sequence[str]] = (
        "external_dag_id",
        "external_task_id",
        "external_task_ids",
        "external_task_group_id",
    )
    ui_color: ClassVar[str] = "#4db7db"

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str | None = None,
        external_task_ids: Collection[str] | None = None,
        external_task_group_id: str | None = None,
        allowed_states: Iterable[str] | None = None,
        skipped_states: Iterable[str] | None = None,
        failed_states: Iterable[str] | None = None,
        execution_delta: timedelta | None = None,
        execution_date_fn: Callable[..., Any] | None = None,
        check_existence: bool = False,
        poll_interval: float = 2.0,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        task = self.task_id
        self.deferrable = accept_deferrable(self, deferrable)
        self.allowed_states = _state_values(allowed_states) or [TaskInstanceState.SUCCESS.value]
        self.skipped_states = _state_values(skipped_states)
        self.failed_states = _state_values(failed_states)
        every = [*self.allowed_states, *self.skipped_states, *self.failed_states]
        if len(set(every)) != len(every):
            raise ValueError(
                f"sensor {task!r}: a state appears more than once across allowed_states, "
                f"skipped_states and failed_states: {every}"
            )
        if not external_task_ids:
            external_task_ids = None
        if external_task_id is not None and external_task_ids is not None:
            raise ValueError(
                f"sensor {task!r}: give external_task_id or external_task_ids, not both "
                "(or external_task_group_id)"
            )
        if external_task_id is not None:
            external_task_ids = [external_task_id]
        if external_task_group_id is not None and external_task_ids is not None:
            raise ValueError(f"sensor {task!r}: give external_task_id(s) or external_task_group_id, not both")
        valid, what = (
            (TASK_STATES, "task instance")
            if external_task_ids or external_task_group_id
            else (DAG_STATES, "DAG run")
        )
        wrong = sorted(set(every) - valid)
        if wrong:
            raise ValueError(
                f"sensor {task!r}: {', '.join(map(repr, wrong))} {'is' if len(wrong) == 1 else 'are'} "
                f"not {what} state(s); use {', '.join(sorted(valid))}"
            )
        if execution_delta is not None and execution_date_fn is not None:
            raise ValueError(f"sensor {task!r}: give execution_delta or execution_date_fn, not both")
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids: Any = list(external_task_ids) if external_task_ids is not None else None
        self.external_task_group_id = external_task_group_id
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.check_existence = check_existence
        self.poll_interval = poll_interval
        self._has_checked_existence = False

    # -- which dates ---------------------------------------------------------------------------

    def _logical_date(self, context: Any) -> datetime:
        logical_date = context.get("logical_date")
        if logical_date:
            return logical_date  # type: ignore[no-any-return]
        run_after = getattr(context.get("dag_run"), "run_after", None)
        if run_after:
            return run_after  # type: ignore[no-any-return]
        raise ValueError(f"sensor {self.task_id!r}: the run has neither a logical_date nor a run_after")

    def dates(self, context: Any) -> list[datetime]:
        """The external logical dates to look at (aware; naive ones are in the default timezone)."""
        logical_date = self._logical_date(context)
        if self.execution_delta is not None:
            found: Any = [logical_date - self.execution_delta]
        elif self.execution_date_fn is not None:
            others = {k: v for k, v in context.items() if k not in ("logical_date", "execution_date")}
            others["context"] = context
            kwargs = determine_kwargs(self.execution_date_fn, [logical_date], others)
            found = self.execution_date_fn(logical_date, **kwargs)
        else:
            found = [logical_date]
        values = found if isinstance(found, (list, tuple)) else [found]
        dates = []
        for value in values:
            if not isinstance(value, datetime):
                raise TypeError(
                    f"sensor {self.task_id!r}: execution_date_fn must return a datetime or a list of "
                    f"them, got {value!r}"
                )
            dates.append(value if value.tzinfo else value.replace(tzinfo=settings.default_timezone))
        return dates

    # -- poking --------------------------------------------------------------------------------

    def poke(self, context: Any) -> bool:
        ids = self.external_task_ids
        if ids and len(ids) > len(set(ids)):
            raise ValueError(f"sensor {self.task_id!r}: external_task_ids has duplicates: {ids}")
        dates = self.dates(context)
        shown = ", ".join(d.isoformat() for d in dates)
        if ids:
            self.log.info("Poking for tasks %s in DAG %s on %s", ids, self.external_dag_id, shown)
        elif self.external_task_group_id:
            group = self.external_task_group_id
            self.log.info("Poking for TaskGroup %r in DAG %s on %s", group, self.external_dag_id, shown)
        else:
            self.log.info("Poking for DAG %s on %s", self.external_dag_id, shown)
        services = get_services()
        if self.check_existence and not self._has_checked_existence:
            self._check_for_existence(services)
        if self.failed_states and self._count(services, self.failed_states, dates) > 0:
            self._fail(shown)
        if self.skipped_states and self._count(services, self.skipped_states, dates) > 0:
            raise UpdraftSkipException(
                f"{self._what()} reached one of the states {self.skipped_states} on {shown}; skipping"
            )
        return self._all_allowed(services, dates)

    def _what(self) -> str:
        if self.external_task_ids:
            return f"external task(s) {self.external_task_ids} of DAG {self.external_dag_id!r}"
        if self.external_task_group_id:
            return f"external TaskGroup {self.external_task_group_id!r} of DAG {self.external_dag_id!r}"
        return f"external DAG {self.external_dag_id!r}"

    def _fail(self, shown: str) -> None:
        message = f"{self._what()} reached one of the failed states {self.failed_states} on {shown}"
        if self.soft_fail:
            raise UpdraftSkipException(f"{message}; skipping (soft_fail)")
        if self.external_task_ids:
            raise ExternalTaskFailedError(message)
        if self.external_task_group_id:
            raise ExternalTaskGroupFailedError(message)
        raise ExternalDagFailedError(message)

    def _count(self, services: RuntimeServices, states: list[str], dates: list[datetime]) -> int:
        """How many external task instances (or runs) at ``dates`` are in ``states``."""
        if self.external_task_ids or self.external_task_group_id:
            return services.count_task_instances(
                self.external_dag_id,
                logical_dates=dates,
                task_ids=self.external_task_ids,
                task_group_id=None if self.external_task_ids else self.external_task_group_id,
                states=states,
            )
        return services.count_dag_runs(self.external_dag_id, logical_dates=dates, states=states)

    def _all_allowed(self, services: RuntimeServices, dates: list[datetime]) -> bool:
        allowed = self._count(services, self.allowed_states, dates)
        if self.external_task_ids:
            return allowed == len(self.external_task_ids) * len(dates)
        if self.external_task_group_id:
            # Every task instance of the group (mapped ones included), in a run at every date.
            total = services.count_task_instances(
                self.external_dag_id, logical_dates=dates, task_group_id=self.external_task_group_id
            )
            runs = services.count_dag_runs(self.external_dag_id, logical_dates=dates)
            return total > 0 and allowed == total and runs == len(dates)
        return allowed == len(dates)

    def _check_for_existence(self, services: RuntimeServices) -> None:
        dag_id = self.external_dag_id
        stored = services.get_stored_dag(dag_id)
        if stored is None:
            raise ExternalDagNotFoundError(
                f"sensor {self.task_id!r}: the external DAG {dag_id!r} does not exist"
            )
        if not stored.fileloc or not os.path.exists(stored.fileloc):
            raise ExternalDagDeletedError(
                f"sensor {self.task_id!r}: the file of the external DAG {dag_id!r} ({stored.fileloc}) is gone"
            )
        for task_id in self.external_task_ids or ():
            if task_id not in stored.task_ids:
                raise ExternalTaskNotFoundError(
                    f"sensor {self.task_id!r}: the external DAG {dag_id!r} has no task {task_id!r}"
                )
        group = self.external_task_group_id
        if group and group not in stored.task_group_ids:
            raise ExternalTaskGroupNotFoundError(
                f"sensor {self.task_id!r}: the external DAG {dag_id!r} has no TaskGroup {group!r}"
            )
        self._has_checked_existence = True


class ExternalTaskMarker(EmptyOperator):
    """Marks that ``external_task_id`` of ``external_dag_id`` (at ``logical_date``) waits for this
    task, usually through an ExternalTaskSensor. Running it does nothing; clearing it with
    dependent DAGs (the UI's "recursive", the API's ``include_downstream_dags``) also clears that
    task and its downstream tasks in the other DAG's run, following further markers there up to
    ``recursion_depth`` hops (see ``updraft.core.clear``).
    """

    template_fields: ClassVar[Sequence[str]] = ("external_dag_id", "external_task_id", "logical_date")
    ui_color: ClassVar[str] = "#4db7db"
    #: Stored with the serialized DAG, so the scheduler and API server know the depth.
    serialized_extra_fields: ClassVar[tuple[str, ...]] = ("recursion_depth",)

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str,
        logical_date: str | datetime | None = "{{ logical_date.isoformat() }}",
        recursion_depth: int = 10,
        **kwargs: Any,
    ) -> None:
        execution_date = kwargs.pop("execution_date", None)  # the Airflow 2 name
        if execution_date is not None:
            logical_date = execution_date
        super().__init__(**kwargs)
        if isinstance(logical_date, datetime):
            logical_date = logical_date.isoformat()
        elif logical_date is not None and not isinstance(logical_date, str):
            raise TypeError(
                f"marker {self.task_id!r}: logical_date must be a datetime or a string (a template), "
                f"not {type(logical_date).__name__}"
            )
        if isinstance(recursion_depth, bool) or not isinstance(recursion_depth, int) or recursion_depth <= 0:
            raise ValueError(f"marker {self.task_id!r}: recursion_depth must be a positive integer")
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.logical_date = logical_date
        self.recursion_depth = recursion_depth
