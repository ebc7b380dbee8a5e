"""Shared pieces of the REST API routes: the DB connection dependency, paging, sorting, errors.

``get_conn`` yields a SQLAlchemy ``Connection`` of the app's engine, in a transaction that commits
when the route returns and rolls back when it raises. A write route that must wake the scheduler
commits first (``conn.commit()``) and then calls ``notify_scheduler()``. The caller's credentials are
checked before the connection is taken (the login lookup uses a connection of its own), so a request
never holds one pooled connection while it waits for another: under load that exhausted the pool.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any

from annotated_types import Interval
from fastapi import Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Select, func, select

from updraft.api.security.dependencies import authenticate_first, engine_of

__all__ = [
    "Body",
    "Conn",
    "DbId",
    "Int32",
    "Limit",
    "MAX_DB_INT",
    "Offset",
    "apply_order",
    "bad_request",
    "conflict",
    "count_of",
    "get_conn",
    "not_found",
]


def get_conn(request: Request, _: Annotated[None, Depends(authenticate_first)]) -> Iterator[Connection]:
    """A connection in a transaction: committed after the route, rolled back if it raises."""
    with engine_of(request).connect() as conn:
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()


Conn = Annotated[Connection, Depends(get_conn)]
Limit = Annotated[int, Query(ge=0, le=1000, description="How many entries to return at most.")]
#: The largest value of an SQL BIGINT: a larger offset or ID cannot be sent to the database.
MAX_DB_INT = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_DB_INT, description="How many entries to skip.")]
#: An input stored in or compared with an INTEGER column (map index, try number, slots, port):
#: out of range is a 422 naming the parameter, instead of a database error.
Int32 = Annotated[int, Interval(ge=-(2**31), le=2**31 - 1)]
#: A row ID in a path: out of the BIGINT range is a 422 naming the parameter.
DbId = Annotated[int, Interval(ge=-MAX_DB_INT - 1, le=MAX_DB_INT)]


class Body(BaseModel):
    """Base of every request body: unknown fields are refused with a 422 naming them."""

    model_config = ConfigDict(extra="forbid")


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} was not found")


def bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail)


def conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail)


def count_of(conn: Connection, query: Select[Any]) -> int:
    """How many rows ``query`` (without limit/offset/order) returns."""
    query = query.order_by(None)
    if query._group_by_clauses or query._distinct or query._limit_clause is not None:
        counted = select(func.count()).select_from(query.subquery())
    else:  # the same filters with count(*) in place of the columns: no subquery to materialize
        counted = query.with_only_columns(func.count(), maintain_column_froms=True)
    return int(conn.scalar(counted) or 0)


def apply_order(
    query: Select[Any], order_by: Sequence[str] | None, columns: Mapping[str, Any], default: Sequence[str]
) -> Select[Any]:
    """Sort by Airflow's ``order_by`` values (``field`` or ``-field``, several allowed); 400 on an
    unknown field. The first of ``default`` is appended as a tie-breaker, for stable pages."""
    keys = [key for value in (order_by or default) for key in value.split(",") if key.strip()]
    terms = []
    for key in [*keys, default[0]]:
        name = key.strip().lstrip("-")
        if name not in columns:
            allowed = ", ".join(sorted(columns))
            raise bad_request(f"order_by: cannot sort by {name!r}; allowed fields are: {allowed}")
        column = columns[name]
        terms.append(column.desc() if key.strip().startswith("-") else column.asc())
    return query.order_by(*terms)
