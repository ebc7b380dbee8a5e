"""PostgreSQL through psycopg 3 (the ``postgres`` extra): ``PostgresHook`` and ``PostgresOperator``.

Names are imported on first use: importing the operator does not import the database driver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "PostgresHook": "updraft.providers.postgres.hooks.postgres",
    "PostgresOperator": "updraft.providers.postgres.operators.postgres",
}

__all__ = ["PostgresHook", "PostgresOperator"]


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
    from updraft.providers.postgres.hooks.postgres import PostgresHook
    from updraft.providers.postgres.operators.postgres import PostgresOperator
