"""Updraft's core operators, each imported on first use so that ``import updraft.operators`` is cheap."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from updraft.operators.bash import BashOperator
    from updraft.operators.branch import BaseBranchOperator, BranchMixIn
    from updraft.operators.empty import DummyOperator, EmptyOperator
    from updraft.operators.python import BranchPythonOperator, PythonOperator, ShortCircuitOperator

__all__ = [
    "BaseBranchOperator",
    "BashOperator",
    "BranchMixIn",
    "BranchPythonOperator",
    "DummyOperator",
    "EmptyOperator",
    "PythonOperator",
    "ShortCircuitOperator",
]

_WHERE = {
    "BaseBranchOperator": "updraft.operators.branch",
    "BashOperator": "updraft.operators.bash",
    "BranchMixIn": "updraft.operators.branch",
    "BranchPythonOperator": "updraft.operators.python",
    "DummyOperator": "updraft.operators.empty",
    "EmptyOperator": "updraft.operators.empty",
    "PythonOperator": "updraft.operators.python",
    "ShortCircuitOperator": "updraft.operators.python",
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
