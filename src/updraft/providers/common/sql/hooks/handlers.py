"""Result handlers for ``DbApiHook.run``: functions of the cursor, called after each statement."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["fetch_all_handler", "fetch_one_handler", "return_single_query_results"]


def return_single_query_results(
    sql: str | Iterable[str], return_last: bool, split_statements: bool | None
) -> bool:
    """Whether ``run`` returns one statement's result rather than a list with one result per statement.

    One result when ``sql`` is a string and either ``return_last`` is set or it is not split;
    a list when ``sql`` is a list, or a string split with ``return_last=False`` (as in Airflow).
    """
    if split_statements is not None:
        return isinstance(sql, str) and (return_last or not split_statements)
    return isinstance(sql, str) and return_last


def fetch_all_handler(cursor: Any) -> list[Any] | None:
    """Every row of a statement that returns rows; None for one that does not (DDL, INSERT...)."""
    if cursor.description is not None:
        return cursor.fetchall()
    return None


def fetch_one_handler(cursor: Any) -> Any:
    """The first row (None when there is none, or the statement returns no rows)."""
    if cursor.description is not None:
        return cursor.fetchone()
    return None
