"""Airflow model names a DAG file may import: ``TaskInstance``, ``DagRun``, ``XCom``, ``WeightRule``...

DAG files mostly use ``TaskInstance`` and ``DagRun`` as annotations, so they name the runtime's own
classes (resolved on first use). ``XCom`` reads values of the current run through the running
task instance; Updraft does not let DAG code query its database directly.
"""

from __future__ import annotations

import importlib
from enum import Enum
from typing import Any

from updraft.sdk.current_context import get_current_context
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.xcom_arg import RETURN_VALUE_KEY

XCOM_RETURN_KEY = RETURN_VALUE_KEY


class WeightRule(str, Enum):
    """How a task's priority weight adds up: its own, plus its downstream or upstream tasks'."""

    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    ABSOLUTE = "absolute"


class BaseOperatorLink:
    """An extra link shown for an operator; Updraft accepts and ignores ``operator_extra_links``."""

    name: str = ""

    def get_link(self, operator: Any, *, ti_key: Any = None, **kwargs: Any) -> str:
        return ""


class XCom:
    """Read XComs of the running DAG run (``XCom.get_one`` / ``get_value`` as in Airflow)."""

    @staticmethod
    def get_one(
        *,
        key: str | None = None,
        dag_id: str | None = None,
        task_id: str | None = None,
        run_id: str | None = None,
        map_index: int | None = None,
        include_prior_dates: bool = False,
        **_: Any,
    ) -> Any:
        ti = get_current_context()["ti"]
        if run_id is not None and run_id != ti.run_id:
            raise UpdraftException(
                f"XCom.get_one(run_id={run_id!r}): Updraft reads XComs of the current run only; "
                "pass the value with xcom_pull or TaskFlow arguments instead"
            )
        return ti.xcom_pull(
            task_ids=task_id,
            dag_id=dag_id,
            key=key or XCOM_RETURN_KEY,
            map_indexes=map_index,
            include_prior_dates=include_prior_dates,
        )

    @classmethod
    def get_value(cls, *, ti_key: Any = None, key: str | None = None, **_: Any) -> Any:
        return cls.get_one(
            key=key,
            dag_id=getattr(ti_key, "dag_id", None),
            task_id=getattr(ti_key, "task_id", None),
            run_id=getattr(ti_key, "run_id", None),
            map_index=getattr(ti_key, "map_index", None),
        )


_RUNTIME = {
    "TaskInstance": ("updraft.core.runtime.task_instance", "RuntimeTaskInstance"),
    "DagRun": ("updraft.core.runtime.task_instance", "RunInfo"),
}


def __getattr__(name: str) -> Any:
    where = _RUNTIME.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(where[0]), where[1])
