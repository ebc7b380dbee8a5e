"""Updraft's core operators, each imported on first use so that ``import updraft.operators`` is cheap."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from updraft.operators.bash import BashOperator
    from updraft.operators.branch import BaseBranchOperator, BranchMixIn
    from updraft.operators.email import EmailOperator
    from updraft.operators.empty import DummyOperator, EmptyOperator
    from updraft.operators.latest_only import LatestOnlyOperator
    from updraft.operators.python import BranchPythonOperator, PythonOperator, ShortCircuitOperator
    from updraft.operators.sensors import (
        BaseSensorOperator,
        BashSensor,
        DateTimeSensor,
        DayOfWeekSensor,
        ExternalTaskSensor,
        FileSensor,
        PokeReturnValue,
        PythonSensor,
        TimeDeltaSensor,
    )
    from updraft.operators.trigger_dagrun import TriggerDagRunOperator

__all__ = [
    "BaseBranchOperator",
    "BaseSensorOperator",
    "BashOperator",
    "BashSensor",
    "BranchMixIn",
    "BranchPythonOperator",
    "DateTimeSensor",
    "DayOfWeekSensor",
    "DummyOperator",
    "EmailOperator",
    "EmptyOperator",
    "ExternalTaskSensor",
    "FileSensor",
    "LatestOnlyOperator",
    "PokeReturnValue",
    "PythonOperator",
    "PythonSensor",
    "ShortCircuitOperator",
    "TimeDeltaSensor",
    "TriggerDagRunOperator",
]

_WHERE = {
    "BaseBranchOperator": "updraft.operators.branch",
    "BashOperator": "updraft.operators.bash",
    "BranchMixIn": "updraft.operators.branch",
    "BranchPythonOperator": "updraft.operators.python",
    "DummyOperator": "updraft.operators.empty",
    "EmailOperator": "updraft.operators.email",
    "EmptyOperator": "updraft.operators.empty",
    "PythonOperator": "updraft.operators.python",
    "ShortCircuitOperator": "updraft.operators.python",
    "LatestOnlyOperator": "updraft.operators.latest_only",
    "TriggerDagRunOperator": "updraft.operators.trigger_dagrun",
    "BaseSensorOperator": "updraft.operators.sensors.base",
    "PokeReturnValue": "updraft.operators.sensors.base",
    "BashSensor": "updraft.operators.sensors.bash",
    "DateTimeSensor": "updraft.operators.sensors.date_time",
    "DayOfWeekSensor": "updraft.operators.sensors.weekday",
    "ExternalTaskSensor": "updraft.operators.sensors.external_task",
    "FileSensor": "updraft.operators.sensors.filesystem",
    "PythonSensor": "updraft.operators.sensors.python",
    "TimeDeltaSensor": "updraft.operators.sensors.time_delta",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
