"""``airflow.exceptions``: Airflow's exception names, as Updraft's own exception classes.

Raising ``AirflowSkipException`` in a task skips it and ``AirflowFailException`` fails it without
retries, exactly as in Airflow, because they *are* Updraft's skip and fail exceptions.
"""

from __future__ import annotations

from updraft.sdk.exceptions import (
    DagCycleError,
    DagDefinitionError,
    DuplicateTaskIdError,
    UpdraftException,
    UpdraftFailException,
    UpdraftNotFound,
    UpdraftRescheduleException,
    UpdraftSensorTimeout,
    UpdraftSkipException,
    UpdraftTaskTimeout,
)
from updraft.sdk.exceptions import (
    ParamValidationError as ParamValidationError,
)
from updraft.sdk.exceptions import (
    TaskDeferred as TaskDeferred,
)
from updraft.sdk.xcom_arg import XComNotFound as XComNotFound

AirflowException = UpdraftException
AirflowSkipException = UpdraftSkipException
AirflowFailException = UpdraftFailException
AirflowTaskTimeout = UpdraftTaskTimeout
AirflowSensorTimeout = UpdraftSensorTimeout
AirflowRescheduleException = UpdraftRescheduleException
AirflowDagCycleException = DagCycleError
DuplicateTaskIdFound = DuplicateTaskIdError
AirflowClusterPolicyViolation = DagDefinitionError
# A connection that no source defines raises ConnectionNotFound, a subclass of this.
AirflowNotFoundException = UpdraftNotFound


class AirflowBadRequest(UpdraftException):
    """A request had bad input."""


class AirflowConfigException(UpdraftException):
    """A configuration problem."""


class AirflowTaskTerminated(UpdraftException):
    """The task was terminated from outside."""


class AirflowWebServerTimeout(UpdraftException):
    """Kept for imports; Updraft never raises it."""


class TaskNotFound(UpdraftException):
    """A task id is not in the DAG."""


class DagNotFound(UpdraftException):
    """A DAG id is unknown."""


class DagRunNotFound(UpdraftException):
    """A DAG run is unknown."""


class DagRunAlreadyExists(UpdraftException):
    """A DAG run with that id exists already."""


class AirflowProviderDeprecationWarning(DeprecationWarning):
    """A provider feature is deprecated (kept so ``warnings.filterwarnings`` calls work)."""


class RemovedInAirflow3Warning(DeprecationWarning):
    """An Airflow 2 feature removed in Airflow 3 (kept for warning filters)."""


class AirflowDagDuplicatedIdException(DagDefinitionError):
    """Two DAGs share an id."""
