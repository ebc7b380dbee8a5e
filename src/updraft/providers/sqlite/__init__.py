"""SQLite through the standard ``sqlite3`` module: ``SqliteHook`` and ``SqliteOperator``.

Names are imported on first use: importing the operator does not import the database driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from updraft.sdk.lazy_exports import lazy_exports

_LAZY = {
    "SqliteHook": "updraft.providers.sqlite.hooks.sqlite",
    "SqliteOperator": "updraft.providers.sqlite.operators.sqlite",
}

__all__ = ["SqliteHook", "SqliteOperator"]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from updraft.providers.sqlite.hooks.sqlite import SqliteHook
    from updraft.providers.sqlite.operators.sqlite import SqliteOperator
