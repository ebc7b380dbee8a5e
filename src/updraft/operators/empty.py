"""``EmptyOperator``: a task that does nothing, for joins and structure (``DummyOperator``: old name)."""

from __future__ import annotations

from typing import Any

from updraft.sdk.baseoperator import BaseOperator

__all__ = ["DummyOperator", "EmptyOperator"]


class EmptyOperator(BaseOperator):
    """Does nothing. The runtime may mark it successful without starting a process for it."""

    ui_color = "#e8f7e4"
    #: Tells the runtime that running this task is a no-op (Airflow's flag of the same name).
    inherits_from_empty_operator = True

    def execute(self, context: Any) -> None:
        return None


#: Airflow 1 and early 2 name of ``EmptyOperator``.
DummyOperator = EmptyOperator
