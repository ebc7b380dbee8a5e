"""Updraft's sensors: tasks that wait for a condition, each imported on first use.

``BaseSensorOperator`` (subclass it and implement ``poke``) and ``PokeReturnValue`` live in
:mod:`updraft.operators.sensors.base`; ``@task.sensor`` builds a ``PythonSensor``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from updraft.sdk.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from updraft.operators.sensors.base import BaseSensorOperator, PokeReturnValue
    from updraft.operators.sensors.bash import BashSensor
    from updraft.operators.sensors.date_time import DateTimeSensor, DateTimeSensorAsync
    from updraft.operators.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor
    from updraft.operators.sensors.filesystem import FileSensor
    from updraft.operators.sensors.python import PythonSensor
    from updraft.operators.sensors.time_delta import TimeDeltaSensor, TimeDeltaSensorAsync, WaitSensor
    from updraft.operators.sensors.time_sensor import TimeSensor, TimeSensorAsync
    from updraft.operators.sensors.weekday import DayOfWeekSensor, WeekDay

__all__ = [
    "BaseSensorOperator",
    "BashSensor",
    "DateTimeSensor",
    "DateTimeSensorAsync",
    "DayOfWeekSensor",
    "ExternalTaskMarker",
    "ExternalTaskSensor",
    "FileSensor",
    "PokeReturnValue",
    "PythonSensor",
    "TimeDeltaSensor",
    "TimeDeltaSensorAsync",
    "TimeSensor",
    "TimeSensorAsync",
    "WaitSensor",
    "WeekDay",
]

_WHERE = {
    "BaseSensorOperator": "updraft.operators.sensors.base",
    "BashSensor": "updraft.operators.sensors.bash",
    "DateTimeSensor": "updraft.operators.sensors.date_time",
    "DateTimeSensorAsync": "updraft.operators.sensors.date_time",
    "DayOfWeekSensor": "updraft.operators.sensors.weekday",
    "ExternalTaskMarker": "updraft.operators.sensors.external_task",
    "ExternalTaskSensor": "updraft.operators.sensors.external_task",
    "FileSensor": "updraft.operators.sensors.filesystem",
    "PokeReturnValue": "updraft.operators.sensors.base",
    "PythonSensor": "updraft.operators.sensors.python",
    "TimeDeltaSensor": "updraft.operators.sensors.time_delta",
    "TimeDeltaSensorAsync": "updraft.operators.sensors.time_delta",
    "TimeSensor": "updraft.operators.sensors.time_sensor",
    "TimeSensorAsync": "updraft.operators.sensors.time_sensor",
    "WaitSensor": "updraft.operators.sensors.time_delta",
    "WeekDay": "updraft.operators.sensors.weekday",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
