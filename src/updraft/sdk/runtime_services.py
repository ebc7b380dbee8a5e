"""What operators may ask of the runtime, without importing it: the ``RuntimeServices`` protocol.

Operators sit below ``updraft.core`` and may not import it, yet a few of them need the metadata DB:
``TriggerDagRunOperator`` creates runs of other DAGs, ``ExternalTaskSensor`` counts another DAG's
task instances, a sensor in reschedule mode asks when its first poke was. The runtime implements
this protocol (``updraft.core.runtime.services.DbRuntimeServices``) and installs it once per
process with :func:`install_services`; operators call :func:`get_services` while they run.

Without an installed runtime (a DAG file imported by a unit test, say), ``get_services`` raises
:class:`RuntimeServicesUnavailable`, whose message says where such an operator can run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from updraft.sdk.exceptions import UpdraftException

__all__ = [
    "DagRunAlreadyExists",
    "RuntimeServices",
    "RuntimeServicesUnavailable",
    "StoredDagInfo",
    "UnknownDagError",
    "get_services",
    "install_services",
]


class RuntimeServicesUnavailable(UpdraftException):
    """No runtime is installed in this process, so an operator cannot reach the metadata DB."""


class DagRunAlreadyExists(UpdraftException):
    """The DAG already has a run with this run_id or logical date."""


class UnknownDagError(UpdraftException):
    """The DAG is not in the metadata DB (never parsed, or its file is gone)."""


@dataclass(frozen=True)
class StoredDagInfo:
    """What the metadata DB knows of a DAG's shape, for existence checks."""

    dag_id: str
    fileloc: str | None
    is_paused: bool = False
    task_ids: frozenset[str] = field(default_factory=frozenset)
    task_group_ids: frozenset[str] = field(default_factory=frozenset)


@runtime_checkable
class RuntimeServices(Protocol):
    """The runtime's answers to operators; every method runs in its own DB transaction."""

    def trigger_dag_run(
        self,
        dag_id: str,
        *,
        run_id: str | None,
        logical_date: datetime | None,
        conf: Mapping[str, Any] | None,
        replace_existing: bool = False,
        triggered_by: str = "operator",
    ) -> str:
        """Create a queued manual run of the stored DAG ``dag_id``; returns its run_id.

        ``conf`` is validated against the DAG's params (ParamValidationError naming the param).
        Raises DagRunAlreadyExists when the run_id or logical date is taken (unless
        ``replace_existing``: then the existing run is cleared, as ``updraft tasks clear`` does,
        and its run_id returned), and UnknownDagError when the DAG is not stored.
        """
        ...

    def get_dag_run_state(self, dag_id: str, run_id: str) -> str | None:
        """The run's state (``queued``, ``running``, ``success``, ``failed``), None if no such run."""
        ...

    def count_task_instances(
        self,
        dag_id: str,
        *,
        logical_dates: Collection[datetime] | None = None,
        run_ids: Collection[str] | None = None,
        task_ids: Collection[str] | None = None,
        task_group_id: str | None = None,
        states: Collection[str | None] | None = None,
    ) -> int:
        """How many task instances of ``dag_id`` match: in runs with these logical dates or
        run_ids, of these tasks (or of every task in the TaskGroup, nested groups included; none
        when the group is unknown), in these states (``None`` in ``states`` matches no state
        yet; ``states=None`` matches any state)."""
        ...

    def count_dag_runs(
        self,
        dag_id: str,
        *,
        logical_dates: Collection[datetime] | None = None,
        run_ids: Collection[str] | None = None,
        states: Collection[str] | None = None,
    ) -> int:
        """How many runs of ``dag_id`` have these logical dates (or run_ids) and states (None: any)."""
        ...

    def first_reschedule_start(
        self, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
    ) -> datetime | None:
        """When the first poke of this try started, if the try was rescheduled before; else None."""
        ...

    def get_stored_dag(self, dag_id: str) -> StoredDagInfo | None:
        """The stored DAG's file, pause flag, task ids and TaskGroup ids; None when not stored."""
        ...


_services: RuntimeServices | None = None


def install_services(services: RuntimeServices | None) -> RuntimeServices | None:
    """Make ``services`` what :func:`get_services` returns in this process; returns the previous one.

    ``None`` uninstalls (tests use it to restore the previous state).
    """
    global _services
    previous, _services = _services, services
    return previous


def get_services() -> RuntimeServices:
    """The installed runtime services; raises RuntimeServicesUnavailable when there are none."""
    if _services is None:
        raise RuntimeServicesUnavailable(
            "this operator needs updraft's runtime (the metadata database), and none is installed "
            "in this process: run it with `updraft dags test`, `updraft tasks test` or the "
            "scheduler, or call updraft.core.runtime.services.install_runtime_services() first"
        )
    return _services
