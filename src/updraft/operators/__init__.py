"""Updraft's core operators, each imported on first use so that ``import updraft.operators`` is cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from updraft.sdk.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from updraft.operators.bash import BashOperator
    from updraft.operators.branch import BaseBranchOperator, BranchMixIn
    from updraft.operators.branch_datetime import BranchDateTimeOperator
    from updraft.operators.branch_weekday import BranchDayOfWeekOperator
    from updraft.operators.email import EmailOperator
    from updraft.operators.empty import DummyOperator, EmptyOperator
    from updraft.operators.external_python import BranchExternalPythonOperator, ExternalPythonOperator
    from updraft.operators.latest_only import LatestOnlyOperator
    from updraft.operators.python import BranchPythonOperator, PythonOperator, ShortCircuitOperator
    from updraft.operators.sensors import (
        BaseSensorOperator,
        BashSensor,
        DateTimeSensor,
        DateTimeSensorAsync,
        DayOfWeekSensor,
        ExternalTaskMarker,
        ExternalTaskSensor,
        FileSensor,
        PokeReturnValue,
        PythonSensor,
        TimeDeltaSensor,
        TimeDeltaSensorAsync,
        TimeSensor,
        TimeSensorAsync,
        WaitSensor,
        WeekDay,
    )
    from updraft.operators.trigger_dagrun import TriggerDagRunOperator
    from updraft.operators.unsupported import (
        BranchPythonVirtualenvOperator,
        NotSupportedByUpdraft,
        PythonVirtualenvOperator,
    )
    from updraft.providers.common.sql.operators.generic_transfer import GenericTransfer

__all__ = [
    "BaseBranchOperator",
    "BaseSensorOperator",
    "BashOperator",
    "BashSensor",
    "BranchDateTimeOperator",
    "BranchDayOfWeekOperator",
    "BranchExternalPythonOperator",
    "BranchMixIn",
    "BranchPythonOperator",
    "BranchPythonVirtualenvOperator",
    "DateTimeSensor",
    "DateTimeSensorAsync",
    "DayOfWeekSensor",
    "DummyOperator",
    "EmailOperator",
    "EmptyOperator",
    "ExternalPythonOperator",
    "ExternalTaskMarker",
    "ExternalTaskSensor",
    "FileSensor",
    "GenericTransfer",
    "LatestOnlyOperator",
    "NotSupportedByUpdraft",
    "PokeReturnValue",
    "PythonOperator",
    "PythonSensor",
    "PythonVirtualenvOperator",
    "ShortCircuitOperator",
    "TimeDeltaSensor",
    "TimeDeltaSensorAsync",
    "TimeSensor",
    "TimeSensorAsync",
    "TriggerDagRunOperator",
    "WaitSensor",
    "WeekDay",
]

_WHERE = {
    "BaseBranchOperator": "updraft.operators.branch",
    "BashOperator": "updraft.operators.bash",
    "BranchDateTimeOperator": "updraft.operators.branch_datetime",
    "BranchDayOfWeekOperator": "updraft.operators.branch_weekday",
    "BranchExternalPythonOperator": "updraft.operators.external_python",
    "BranchMixIn": "updraft.operators.branch",
    "BranchPythonOperator": "updraft.operators.python",
    "BranchPythonVirtualenvOperator": "updraft.operators.unsupported",
    "DummyOperator": "updraft.operators.empty",
    "EmailOperator": "updraft.operators.email",
    "EmptyOperator": "updraft.operators.empty",
    "ExternalPythonOperator": "updraft.operators.external_python",
    "GenericTransfer": "updraft.providers.common.sql.operators.generic_transfer",
    "NotSupportedByUpdraft": "updraft.operators.unsupported",
    "PythonOperator": "updraft.operators.python",
    "PythonVirtualenvOperator": "updraft.operators.unsupported",
    "ShortCircuitOperator": "updraft.operators.python",
    "LatestOnlyOperator": "updraft.operators.latest_only",
    "TriggerDagRunOperator": "updraft.operators.trigger_dagrun",
    "BaseSensorOperator": "updraft.operators.sensors.base",
    "PokeReturnValue": "updraft.operators.sensors.base",
    "BashSensor": "updraft.operators.sensors.bash",
    "DateTimeSensor": "updraft.operators.sensors.date_time",
    "DateTimeSensorAsync": "updraft.operators.sensors.date_time",
    "DayOfWeekSensor": "updraft.operators.sensors.weekday",
    "ExternalTaskMarker": "updraft.operators.sensors.external_task",
    "ExternalTaskSensor": "updraft.operators.sensors.external_task",
    "FileSensor": "updraft.operators.sensors.filesystem",
    "PythonSensor": "updraft.operators.sensors.python",
    "TimeDeltaSensor": "updraft.operators.sensors.time_delta",
    "TimeDeltaSensorAsync": "updraft.operators.sensors.time_delta",
    "TimeSensor": "updraft.operators.sensors.time_sensor",
    "TimeSensorAsync": "updraft.operators.sensors.time_sensor",
    "WaitSensor": "updraft.operators.sensors.time_delta",
    "WeekDay": "updraft.operators.sensors.weekday",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
