"""Airflow's module path for the SQL operators (``...common.sql.operators.sql``): every one of them."""

from updraft.providers.common.sql.operators.base import BaseSQLOperator
from updraft.providers.common.sql.operators.checks import (
    SQLCheckOperator,
    SQLColumnCheckOperator,
    SQLIntervalCheckOperator,
    SQLTableCheckOperator,
    SQLThresholdCheckOperator,
    SQLValueCheckOperator,
)
from updraft.providers.common.sql.operators.execute_query import (
    SQLExecuteQueryOperator,
    default_output_processor,
)

__all__ = [
    "BaseSQLOperator",
    "SQLCheckOperator",
    "SQLColumnCheckOperator",
    "SQLExecuteQueryOperator",
    "SQLIntervalCheckOperator",
    "SQLTableCheckOperator",
    "SQLThresholdCheckOperator",
    "SQLValueCheckOperator",
    "default_output_processor",
]
