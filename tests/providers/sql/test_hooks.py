"""DbApiHook behaviour every SQL database must share: each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.providers.sql.conftest import Database
from updraft.providers.common.sql import SQLExecutionError
from updraft.providers.common.sql.hooks.handlers import fetch_all_handler
from updraft.providers.postgres import PostgresHook
from updraft.providers.sqlite import SqliteHook

SCRIPT = """
-- a table whose data holds semicolons; the splitter must not cut there
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
INSERT INTO notes VALUES (1, 'first; with a semicolon');
/* a block comment; with one too */
INSERT INTO notes VALUES (2, 'it''s -- not a comment');
SELECT id, body FROM notes ORDER BY id;
"""


def p(db: Database) -> str:
    """The driver's parameter marker."""
    return db.hook.placeholder


def test_run_returns_the_handlers_result_and_the_cursor_description(db: Database):
    db.hook.run("CREATE TABLE t (a INTEGER, b TEXT)")
    assert db.hook.run(f"INSERT INTO t VALUES ({p(db)}, {p(db)})", parameters=(1, "x")) is None
    rows = db.hook.run("SELECT a, b FROM t", handler=fetch_all_handler)
    assert [tuple(row) for row in rows] == [(1, "x")]
    assert [column[0] for column in db.hook.last_description] == ["a", "b"]


def test_get_records_and_get_first(db: Database):
    db.hook.run(["CREATE TABLE t (a INTEGER)", "INSERT INTO t VALUES (1), (2), (3)"])
    assert [tuple(row) for row in db.hook.get_records("SELECT a FROM t ORDER BY a")] == [(1,), (2,), (3,)]
    assert tuple(db.hook.get_first(f"SELECT a FROM t WHERE a > {p(db)} ORDER BY a", (1,))) == (2,)
    assert db.hook.get_first("SELECT a FROM t WHERE a > 10") is None
    per_statement = db.hook.get_records(["SELECT 1", "SELECT 2"])
    assert [[tuple(row) for row in rows] for rows in per_statement] == [[(1,)], [(2,)]]


def test_a_script_is_split_safely_and_returns_the_last_result(db: Database):
    rows = db.hook.run(SCRIPT, split_statements=True, handler=fetch_all_handler)
    assert [tuple(row) for row in rows] == [(1, "first; with a semicolon"), (2, "it's -- not a comment")]
    every = db.hook.run(
        "SELECT 1 AS one; SELECT 'a;b' AS two",
        split_statements=True,
        return_last=False,
        handler=fetch_all_handler,
    )
    assert [[tuple(row) for row in rows] for rows in every] == [[(1,)], [("a;b",)]]
    assert [[column[0] for column in d] for d in db.hook.descriptions] == [["one"], ["two"]]


def test_a_failing_statement_rolls_back_everything_and_names_the_connection(db: Database):
    with pytest.raises(SQLExecutionError) as caught:
        db.hook.run(
            "CREATE TABLE made (a INTEGER); INSERT INTO made VALUES (1); SELECT * FROM no_such_table;",
            split_statements=True,
        )
    message = str(caught.value)
    assert f"Statement 3 of 3 failed on connection {db.conn_id!r}" in message
    assert "no_such_table" in message
    assert "rolled back" in message
    assert caught.value.conn_id == db.conn_id
    assert caught.value.statement == "SELECT * FROM no_such_table;"
    assert caught.value.orig is not None
    assert not db.table_exists("made")  # the CREATE TABLE went too, SQLite included


def test_with_autocommit_statements_before_the_failure_stay(db: Database):
    with pytest.raises(SQLExecutionError, match="already committed"):
        db.hook.run(
            [
                "CREATE TABLE kept (a INTEGER)",
                "INSERT INTO kept VALUES (1)",
                "INSERT INTO kept VALUES ('x', 2)",
            ],
            autocommit=True,
        )
    assert db.count("kept") == 1


def test_empty_sql_is_refused(db: Database):
    with pytest.raises(ValueError, match="no SQL to run"):
        db.hook.run("   ")
    with pytest.raises(ValueError, match="no SQL to run"):
        db.hook.run("-- nothing here", split_statements=True)


def test_insert_rows_in_batches(db: Database):
    db.hook.run("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
    rows = [(i, f"item {i}", i * 0.5) for i in range(2500)]
    db.hook.insert_rows("items", iter(rows), commit_every=1000)
    assert db.count("items") == 2500
    assert tuple(db.hook.get_first("SELECT id, name, price FROM items WHERE id = 2499")) == (
        2499,
        "item 2499",
        1249.5,
    )
    db.hook.insert_rows("items", [("late", 5000)], target_fields=["name", "id"], commit_every=0)
    assert tuple(db.hook.get_first("SELECT name, price FROM items WHERE id = 5000")) == ("late", None)


def test_a_refused_row_leaves_the_table_as_it_was(db: Database):
    db.hook.run("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    db.hook.insert_rows("items", [(0, "before")])
    rows = [(i, f"item {i}") for i in range(1, 1500)] + [(1500, None)] + [(1501, "after")]
    with pytest.raises(SQLExecutionError) as caught:
        db.hook.insert_rows("items", rows, commit_every=1000)
    assert f"on connection {db.conn_id!r}" in str(caught.value)
    assert "rolled back" in str(caught.value)
    assert db.count("items") == 1  # neither the first batch of 1000 nor the rest were kept


def test_insert_rows_with_replace_overwrites_by_key(db: Database):
    db.hook.run("CREATE TABLE prices (sku TEXT PRIMARY KEY, price INTEGER)")
    db.hook.insert_rows("prices", [("a", 1), ("b", 2)], target_fields=["sku", "price"])
    db.hook.insert_rows("prices", [("a", 10), ("c", 3)], target_fields=["sku", "price"], replace=True)
    rows = db.hook.get_records("SELECT sku, price FROM prices ORDER BY sku")
    assert [tuple(row) for row in rows] == [("a", 10), ("b", 2), ("c", 3)]


def test_bulk_load_and_bulk_dump_round_trip_tab_delimited_files(db: Database, tmp_path: Path):
    db.hook.run("CREATE TABLE lines (id INTEGER, body TEXT)")
    source = tmp_path / "in.tsv"
    source.write_text("1\tplain\n2\t\\N\n3\ttab\\there\n4\tnew\\nline and back\\\\slash\n")
    db.hook.bulk_load("lines", str(source))
    rows = db.hook.get_records("SELECT id, body FROM lines ORDER BY id")
    assert [tuple(row) for row in rows] == [
        (1, "plain"),
        (2, None),
        (3, "tab\there"),
        (4, "new\nline and back\\slash"),
    ]
    target = tmp_path / "out.tsv"
    db.hook.bulk_dump("lines", str(target))
    assert sorted(target.read_text().splitlines()) == sorted(source.read_text().splitlines())


def test_get_df_gives_a_dataframe_with_column_names(db: Database):
    if importlib.util.find_spec("pandas") is None:
        pytest.skip("pandas is not installed (it is optional: DbApiHook.get_df needs it)")
    db.hook.run(["CREATE TABLE t (a INTEGER, b TEXT)", "INSERT INTO t VALUES (1, 'x'), (2, 'y')"])
    frame = db.hook.get_df("SELECT a, b FROM t ORDER BY a")
    assert list(frame.columns) == ["a", "b"]
    assert frame.to_dict("records") == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


def test_get_df_without_pandas_says_how_to_get_it(db: Database, monkeypatch: pytest.MonkeyPatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="get_df needs pandas, which is not installed: pip install pandas"):
        db.hook.get_df("SELECT 1")


def test_test_connection(db: Database):
    assert db.hook.test_connection() == (True, "Connection successfully tested")


@pytest.mark.parametrize("hook_class", [PostgresHook, SqliteHook])
def test_the_connection_id_argument_follows_airflows_pattern(hook_class):
    attr = hook_class.conn_name_attr
    assert getattr(hook_class(), attr) == hook_class.default_conn_name
    assert getattr(hook_class("mine"), attr) == "mine"
    assert getattr(hook_class(**{attr: "mine"}), attr) == "mine"
    assert hook_class("mine").get_conn_id() == "mine"
    with pytest.raises(TypeError, match="unexpected argument"):
        hook_class(**{attr: "mine"}, colour="blue")
    with pytest.raises(TypeError, match="one connection id"):
        hook_class("a", "b")
