"""SQL for any database with a DB-API 2 driver: ``DbApiHook``, ``SQLExecuteQueryOperator``, checks and
``GenericTransfer``.

``from updraft.providers.common.sql import SQLExecuteQueryOperator`` is cheap: names are imported
on first use, and no database driver is imported until a hook connects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from updraft.sdk.lazy_exports import lazy_exports

_LAZY: dict[str, str] = {
    "DbApiHook": "updraft.providers.common.sql.hooks.sql",
    "fetch_all_handler": "updraft.providers.common.sql.hooks.handlers",
    "fetch_one_handler": "updraft.providers.common.sql.hooks.handlers",
    "split_sql_string": "updraft.providers.common.sql.splitting",
    "BaseSQLOperator": "updraft.providers.common.sql.operators.base",
    "SQLExecuteQueryOperator": "updraft.providers.common.sql.operators.execute_query",
    "GenericTransfer": "updraft.providers.common.sql.operators.generic_transfer",
    "SQLCheckOperator": "updraft.providers.common.sql.operators.checks",
    "SQLValueCheckOperator": "updraft.providers.common.sql.operators.checks",
    "SQLIntervalCheckOperator": "updraft.providers.common.sql.operators.checks",
    "SQLThresholdCheckOperator": "updraft.providers.common.sql.operators.checks",
    "SQLColumnCheckOperator": "updraft.providers.common.sql.operators.checks",
    "SQLTableCheckOperator": "updraft.providers.common.sql.operators.checks",
    "SQLHookError": "updraft.providers.common.sql.exceptions",
    "SQLConnectionError": "updraft.providers.common.sql.exceptions",
    "SQLExecutionError": "updraft.providers.common.sql.exceptions",
    "SQLCheckFailed": "updraft.providers.common.sql.exceptions",
}

__all__ = [
    "BaseSQLOperator",
    "DbApiHook",
    "GenericTransfer",
    "SQLCheckFailed",
    "SQLCheckOperator",
    "SQLColumnCheckOperator",
    "SQLConnectionError",
    "SQLExecuteQueryOperator",
    "SQLExecutionError",
    "SQLHookError",
    "SQLIntervalCheckOperator",
    "SQLTableCheckOperator",
    "SQLThresholdCheckOperator",
    "SQLValueCheckOperator",
    "fetch_all_handler",
    "fetch_one_handler",
    "split_sql_string",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from updraft.providers.common.sql.exceptions import (
        SQLCheckFailed,
        SQLConnectionError,
        SQLExecutionError,
        SQLHookError,
    )
    from updraft.providers.common.sql.hooks.handlers import fetch_all_handler, fetch_one_handler
    from updraft.providers.common.sql.hooks.sql import DbApiHook
    from updraft.providers.common.sql.operators.base import BaseSQLOperator
    from updraft.providers.common.sql.operators.checks import (
        SQLCheckOperator,
        SQLColumnCheckOperator,
        SQLIntervalCheckOperator,
        SQLTableCheckOperator,
        SQLThresholdCheckOperator,
        SQLValueCheckOperator,
    )
    from updraft.providers.common.sql.operators.execute_query import SQLExecuteQueryOperator
    from updraft.providers.common.sql.operators.generic_transfer import GenericTransfer
    from updraft.providers.common.sql.splitting import split_sql_string
