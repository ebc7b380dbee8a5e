"""Airflow's small helpers: ``apply_defaults``, ``merge_dicts`` and ``LoggingMixin``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def apply_defaults(func: F) -> F:
    """A no-op, as in Airflow 2: BaseOperator already fills arguments from ``default_args``."""
    return func


def merge_dicts(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """``left`` updated with ``right``, merging nested dicts instead of replacing them."""
    merged = dict(left)
    for key, value in right.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_dicts(merged[key], value)
        else:
            merged[key] = value
    return merged


class LoggingMixin:
    """Gives a class a ``log`` property with a logger named after the class."""

    _log: logging.Logger | None = None

    @property
    def log(self) -> logging.Logger:
        if self._log is None:
            cls = type(self)
            self._log = logging.getLogger(f"{cls.__module__}.{cls.__qualname__}")
        return self._log


def is_venv_installed() -> bool:
    """False: Updraft runs no virtualenv tasks, so DAG files that check this skip defining them."""
    return False


class AirflowPlugin:
    """Base of an Airflow plugin class. Updraft loads no plugins: the class is accepted so that a
    module defining one (next to a timetable a DAG imports directly) still imports."""

    name: str = ""
    timetables: list[type] = []
    macros: list[object] = []
    listeners: list[object] = []
    priority_weight_strategies: list[type] = []
