"""Time inserting rows into PostgreSQL: ``PostgresHook.insert_rows`` against a beginner's loop.

The loop is what a first attempt looks like: ``for row in rows: cursor.execute("INSERT ...", row)``
and one commit at the end. ``insert_rows`` streams the rows with ``COPY ... FROM STDIN``. For
reference it also times the generic ``DbApiHook.insert_rows`` (``executemany`` in batches of 1,000,
the path ``replace=True`` takes). Each method loads the same rows into an empty table in a private
schema of the real server, which is dropped afterwards; the row count is checked after each.

Usage: python benchmarks/sql_insert.py [--rows N] [--pg-url URL] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.postgres import PostgresHook
from updraft.sdk.connection import Connection

TABLE = "bench_rows"
COLUMNS = "id integer, name text, amount numeric(10, 2), created timestamptz"
CONN_ID = "bench_pg"


def make_rows(count: int) -> list[tuple[Any, ...]]:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return [
        (i, f"customer {i % 977}", Decimal(i % 10_000) / 100, start + dt.timedelta(seconds=i))
        for i in range(count)
    ]


def beginner_loop(hook: PostgresHook, rows: list[tuple[Any, ...]]) -> None:
    conn = hook.get_conn()
    try:
        cursor = conn.cursor()
        for row in rows:
            cursor.execute(f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s)", row)
        conn.commit()
    finally:
        conn.close()


def timed(hook: PostgresHook, rows: list[tuple[Any, ...]], insert: Callable[[], None]) -> float:
    hook.run(f"TRUNCATE {TABLE}")
    started = time.perf_counter()
    insert()
    elapsed = time.perf_counter() - started
    loaded = hook.get_first(f"SELECT COUNT(*) FROM {TABLE}")[0]
    if loaded != len(rows):
        sys.exit(f"expected {len(rows)} rows in {TABLE}, found {loaded}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("UPDRAFT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL database to work in (a private schema is made and dropped)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()

    schema = f"bench_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(args.pg_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL is not reachable at {args.pg_url}: {exc}".strip())
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        admin.execute(f'CREATE TABLE "{schema}".{TABLE} ({COLUMNS})')
    try:
        connection = Connection.from_uri(CONN_ID, args.pg_url)
        connection.extra = json.dumps({"options": f"-c search_path={schema}"})
        os.environ[f"UPDRAFT_CONN_{CONN_ID.upper()}"] = json.dumps(connection.to_dict())
        hook = PostgresHook(CONN_ID)
        rows = make_rows(args.rows)

        loop_s = timed(hook, rows, lambda: beginner_loop(hook, rows))
        copy_s = timed(hook, rows, lambda: hook.insert_rows(TABLE, rows))
        batches_s = timed(hook, rows, lambda: DbApiHook.insert_rows(hook, TABLE, rows, commit_every=1000))
    finally:
        with psycopg.connect(args.pg_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    n = args.rows
    print(
        f"rows:                                   {n:,} into PostgreSQL ({connection.host}:{connection.port or 5432})"
    )
    print(f"beginner loop (execute per row):        {loop_s:7.2f} s  {n / loop_s:>9,.0f} rows/s")
    print(f"PostgresHook.insert_rows (COPY):        {copy_s:7.2f} s  {n / copy_s:>9,.0f} rows/s")
    print(f"DbApiHook.insert_rows (executemany):    {batches_s:7.2f} s  {n / batches_s:>9,.0f} rows/s")
    print(f"speedup of insert_rows over the loop:   {loop_s / copy_s:.1f}x")
    if args.json is not None:
        numbers = {
            "rows": n,
            "beginner_loop_s": round(loop_s, 3),
            "insert_rows_copy_s": round(copy_s, 3),
            "executemany_batches_s": round(batches_s, 3),
            "speedup": round(loop_s / copy_s, 1),
        }
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")


if __name__ == "__main__":
    main()
