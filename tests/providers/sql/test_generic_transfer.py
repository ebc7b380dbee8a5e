"""GenericTransfer between real databases: SQLite files and the PostgreSQL test server."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.operators.helpers import run_task
from tests.providers.sql.conftest import Database, set_connection
from tests.runs.conftest import Runs
from updraft import DAG
from updraft.operators import GenericTransfer
from updraft.providers.common.sql import GenericTransfer as FromProvider
from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.common.sql.operators.base import get_db_hook
from updraft.providers.postgres import PostgresHook
from updraft.providers.sqlite import SqliteHook
from updraft.sdk.connection import Connection

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
ROWS = [(i, f"name {i}", i * 1.5) for i in range(1, 26)]


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DbApiHook:
    """A SQLite file ``src_lite`` with a table ``people`` of 25 rows."""
    set_connection(monkeypatch, Connection("src_lite", conn_type="sqlite", host=str(tmp_path / "source.db")))
    hook = get_db_hook("src_lite")
    hook.run("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
    hook.insert_rows("people", ROWS)
    return hook


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Record the real get_records / insert_rows calls (they still run)."""
    seen: dict[str, list[Any]] = {"get_records": [], "insert_rows": []}
    get_records = DbApiHook.get_records

    def spy_get(self: DbApiHook, sql: Any, parameters: Any = None) -> Any:
        seen["get_records"].append(sql)
        return get_records(self, sql, parameters)

    def spy_insert(original: Any) -> Any:
        def insert(self: DbApiHook, table: str, rows: Any, *args: Any, **kwargs: Any) -> None:
            rows = list(rows)
            seen["insert_rows"].append((table, len(rows), kwargs))
            original(self, table, rows, *args, **kwargs)

        return insert

    monkeypatch.setattr(DbApiHook, "get_records", spy_get)
    for cls in (DbApiHook, PostgresHook, SqliteHook):  # PostgresHook inserts with COPY
        if "insert_rows" in cls.__dict__:
            monkeypatch.setattr(cls, "insert_rows", spy_insert(cls.__dict__["insert_rows"]))
    return seen


def _transfer(**kwargs: Any) -> GenericTransfer:
    with DAG("transfer", start_date=START, schedule=None) as dag:
        GenericTransfer(task_id="copy", **kwargs)
    return dag.task_dict["copy"]  # type: ignore[return-value]


def _rows(db: Database, table: str = "people_copy") -> list[tuple[Any, ...]]:
    return [tuple(row) for row in db.hook.get_records(f"SELECT id, name, score FROM {table} ORDER BY id")]


CREATE = "CREATE TABLE people_copy (id INTEGER PRIMARY KEY, name TEXT, score REAL)"


def test_it_is_the_same_class_from_both_paths() -> None:
    assert GenericTransfer is FromProvider


def test_copies_sqlite_into_each_database_in_batches(
    source: DbApiHook, db: Database, calls: dict[str, list[Any]]
) -> None:
    task = _transfer(
        sql="SELECT id, name, score FROM people ORDER BY id",
        source_conn_id="src_lite",
        destination_conn_id=db.conn_id,
        destination_table="people_copy",
        preoperator=["DROP TABLE IF EXISTS people_copy", CREATE],
        insert_args={"commit_every": 10},
    )
    run_task(task)
    assert calls["get_records"] == ["SELECT id, name, score FROM people ORDER BY id"]
    # One insert_rows call, which sends executemany batches of 10: never one statement per row.
    assert [(table, count) for table, count, _ in calls["insert_rows"]] == [("people_copy", 25)]
    assert _rows(db) == ROWS


def test_copies_from_each_database_page_by_page(
    source: DbApiHook,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    calls: dict[str, list[Any]],
) -> None:
    db.hook.run("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
    db.hook.insert_rows("people", ROWS)
    set_connection(monkeypatch, Connection("dst_lite", conn_type="sqlite", host=str(tmp_path / "dest.db")))
    destination = get_db_hook("dst_lite")
    destination.run(CREATE)
    calls["get_records"].clear()
    calls["insert_rows"].clear()
    task = _transfer(
        sql="SELECT id, name, score FROM people ORDER BY id",
        source_conn_id=db.conn_id,
        destination_conn_id="dst_lite",
        destination_table="people_copy",
        page_size="{{ 5 * 2 }}",  # templated: rendered to text, used as a number
        insert_args={"target_fields": ["id", "name", "score"], "commit_every": "{{ 4 }}"},
    )
    run_task(task)
    assert calls["get_records"] == [
        "SELECT id, name, score FROM people ORDER BY id LIMIT 10 OFFSET 0",
        "SELECT id, name, score FROM people ORDER BY id LIMIT 10 OFFSET 10",
        "SELECT id, name, score FROM people ORDER BY id LIMIT 10 OFFSET 20",  # 5 rows: the last page
    ]
    assert [count for _, count, _ in calls["insert_rows"]] == [10, 10, 5]
    assert calls["insert_rows"][0][2] == {"target_fields": ["id", "name", "score"], "commit_every": 4}
    assert [tuple(row) for row in destination.get_records("SELECT * FROM people_copy ORDER BY id")] == ROWS


def test_a_list_of_queries_a_rows_processor_and_a_custom_page_clause(
    source: DbApiHook, db: Database, calls: dict[str, list[Any]]
) -> None:
    db.hook.run(CREATE)

    def shout(rows: list[Any], **context: Any) -> list[Any]:
        assert context["ds"] == "2024-03-05"
        return [(row[0], row[1].upper(), row[2]) for row in rows if row[0] % 2]

    run_task(
        _transfer(
            sql=["SELECT * FROM people WHERE id <= 3", "SELECT * FROM people WHERE id BETWEEN 4 AND 6"],
            source_conn_id="src_lite",
            destination_conn_id=db.conn_id,
            destination_table="people_copy",
            rows_processor=shout,
        )
    )
    assert _rows(db) == [(1, "NAME 1", 1.5), (3, "NAME 3", 4.5), (5, "NAME 5", 7.5)]

    db.hook.run("DELETE FROM people_copy")
    run_task(
        _transfer(
            sql="SELECT * FROM people WHERE id > 20",
            source_conn_id="src_lite",
            destination_conn_id=db.conn_id,
            destination_table="people_copy",
            page_size=3,
            paginated_sql_statement_clause="SELECT * FROM ({}) AS page ORDER BY id LIMIT {} OFFSET {}",
        )
    )
    assert [row[0] for row in _rows(db)] == [21, 22, 23, 24, 25]


def test_a_refused_row_leaves_the_destination_unchanged(source: DbApiHook, db: Database) -> None:
    db.hook.run(["CREATE TABLE people_copy (id INTEGER PRIMARY KEY, name TEXT, score REAL)"])
    db.hook.insert_rows("people_copy", [(7, "already here", 0.0)])
    with pytest.raises(Exception, match="people_copy"):
        run_task(
            _transfer(
                sql="SELECT * FROM people",
                source_conn_id="src_lite",
                destination_conn_id=db.conn_id,
                destination_table="people_copy",
            )
        )
    assert _rows(db) == [(7, "already here", 0.0)]


def test_bad_arguments_are_named() -> None:
    base = {"sql": "SELECT 1", "source_conn_id": "a", "destination_conn_id": "b", "destination_table": "t"}
    with pytest.raises(ValueError, match="'copy': page_size must be positive"):
        _transfer(**base, page_size=0)
    with pytest.raises(TypeError, match="insert_args must be a dict"):
        _transfer(**base, insert_args=[1])
    with pytest.raises(TypeError, match="rows_processor must be callable"):
        _transfer(**base, rows_processor="upper")
    assert _transfer(**base, deferrable=True).deferrable is True


def test_transfer_in_a_real_run_sqlite_to_postgres(
    sql_runs: Runs, source: DbApiHook, pg_conn_id: str
) -> None:
    sql_runs.run(
        "transfer_run",
        f"""
    from updraft.operators import GenericTransfer

    with DAG("transfer_run", start_date=START, schedule=None) as dag:
        GenericTransfer(
            task_id="copy",
            sql="SELECT id, name, score FROM people WHERE id <= {{{{ params.last }}}} ORDER BY id",
            source_conn_id="src_lite",
            destination_conn_id={pg_conn_id!r},
            destination_table="people_copy",
            preoperator={CREATE!r},
            params={{"last": 12}},
            page_size=5,
        )
    """,
    )
    assert sql_runs.states("transfer_run") == {"copy": "success"}
    hook = get_db_hook(pg_conn_id)
    assert [
        tuple(r) for r in hook.get_records("SELECT id, name, score FROM people_copy ORDER BY id")
    ] == ROWS[:12]
    rendered = sql_runs.tis("transfer_run")["copy"].rendered_fields
    assert rendered["sql"] == "SELECT id, name, score FROM people WHERE id <= 12 ORDER BY id"
