"""``deferrable=True``: accepted from Airflow DAG files, and run as an ordinary (blocking) task.

Airflow hands a deferred task to its triggerer; updraft has none. A deferrable operator or sensor
does the same work synchronously (a sensor pokes, or in ``mode="reschedule"`` frees its worker
between pokes), so a DAG written for Airflow runs unchanged and gives the same result.
"""

from __future__ import annotations

from typing import Any

__all__ = ["accept_deferrable"]


def accept_deferrable(task: Any, deferrable: bool) -> bool:
    """Note (at debug level) that ``deferrable=True`` is ignored; returns ``deferrable``."""
    if deferrable:
        task.log.debug(
            "%s %r: deferrable=True is accepted and ignored: updraft runs the task without a triggerer",
            type(task).__name__,
            task.task_id,
        )
    return bool(deferrable)
