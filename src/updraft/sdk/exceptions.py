"""Exceptions that DAG authors raise or catch, and the errors updraft reports about DAG files.

::

    UpdraftException
    +-- UpdraftSkipException          the task ends as skipped
    +-- UpdraftFailException          the task fails at once, with no retry
    +-- UpdraftTaskTimeout            execution_timeout was exceeded (retriable)
    +-- UpdraftSensorTimeout          a sensor gave up waiting (not retried)
    +-- UpdraftRescheduleException    a sensor asks to be called again later
    +-- DagDefinitionError            a DAG file describes an invalid DAG
    |   +-- DagCycleError             the dependencies form a cycle
    |   +-- DuplicateTaskIdError      two tasks in one DAG share an id
    +-- ParamValidationError          a param or run conf does not match its schema
    +-- TemplateRenderError           a Jinja template failed to render
    +-- XComValueError                a return value cannot be stored as an XCom
    +-- MapLengthError                a mapped task would expand past max_map_length
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class UpdraftException(Exception):
    """Base of every exception updraft raises on purpose."""


class UpdraftNotFound(UpdraftException, KeyError):
    """Something looked up by name does not exist (Airflow's ``AirflowNotFoundException``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UpdraftSkipException(UpdraftException):
    """Raise inside a task to mark it skipped."""


class UpdraftFailException(UpdraftException):
    """Raise inside a task to fail it without using its remaining retries."""


class UpdraftTaskTimeout(UpdraftException):
    """The task ran past its execution_timeout."""


class UpdraftSensorTimeout(UpdraftFailException):
    """A sensor waited past its timeout; not retried, like Airflow."""


class UpdraftRescheduleException(UpdraftException):
    """A sensor in reschedule mode asks to be run again at ``reschedule_date``."""

    def __init__(self, reschedule_date: datetime) -> None:
        super().__init__(f"reschedule at {reschedule_date.isoformat()}")
        self.reschedule_date = reschedule_date


class DagDefinitionError(UpdraftException, ValueError):
    """A DAG file defines something invalid; the message names the DAG and task."""


class DagCycleError(DagDefinitionError):
    """The task dependencies of a DAG form a cycle."""


class DuplicateTaskIdError(DagDefinitionError):
    """Two tasks in one DAG were given the same task_id."""


class ParamValidationError(UpdraftException, ValueError):
    """A DAG param or a run's conf does not satisfy the param's schema."""


class TemplateRenderError(UpdraftException):
    """A template field failed to render; the message names the task, field and line."""


class XComValueError(UpdraftException, TypeError):
    """A value cannot be stored as an XCom (unsupported type, or too large)."""


class MapLengthError(UpdraftException):
    """A mapped task would expand into more instances than max_map_length allows."""


class TaskDeferred(UpdraftException):
    """Reserved for deferrable operators, which updraft does not run yet."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("deferrable operators are not supported by updraft yet")


__all__ = [
    "DagCycleError",
    "DagDefinitionError",
    "DuplicateTaskIdError",
    "MapLengthError",
    "ParamValidationError",
    "TaskDeferred",
    "TemplateRenderError",
    "UpdraftException",
    "UpdraftFailException",
    "UpdraftNotFound",
    "UpdraftRescheduleException",
    "UpdraftSensorTimeout",
    "UpdraftSkipException",
    "UpdraftTaskTimeout",
    "XComValueError",
]
