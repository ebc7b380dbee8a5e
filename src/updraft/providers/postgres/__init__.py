"""PostgreSQL through psycopg 3 (the ``postgres`` extra): ``PostgresHook`` and ``PostgresOperator``.

Names are imported on first use: importing the operator does not import the database driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from updraft.sdk.lazy_exports import lazy_exports

_LAZY = {
    "PostgresHook": "updraft.providers.postgres.hooks.postgres",
    "PostgresOperator": "updraft.providers.postgres.operators.postgres",
}

__all__ = ["PostgresHook", "PostgresOperator"]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from updraft.providers.postgres.hooks.postgres import PostgresHook
    from updraft.providers.postgres.operators.postgres import PostgresOperator
