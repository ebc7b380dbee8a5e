"""SQLite through the standard ``sqlite3`` module: ``SqliteHook`` and ``SqliteOperator``.

Names are imported on first use: importing the operator does not import the database driver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "SqliteHook": "updraft.providers.sqlite.hooks.sqlite",
    "SqliteOperator": "updraft.providers.sqlite.operators.sqlite",
}

__all__ = ["SqliteHook", "SqliteOperator"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from updraft.providers.sqlite.hooks.sqlite import SqliteHook
    from updraft.providers.sqlite.operators.sqlite import SqliteOperator
