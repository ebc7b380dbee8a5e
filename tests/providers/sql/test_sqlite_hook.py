"""SqliteHook: where the file comes from, in-memory databases, URI parameters and clear failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from updraft.providers.common.sql import SQLConnectionError, SQLExecutionError
from updraft.providers.sqlite import SqliteHook


def _define(monkeypatch: pytest.MonkeyPatch, conn_id: str, value: str) -> SqliteHook:
    monkeypatch.setenv(f"UPDRAFT_CONN_{conn_id.upper()}", value)
    return SqliteHook(conn_id)


def test_the_host_is_the_files_path_in_json_and_uri_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "app.db"
    as_json = _define(monkeypatch, "lite_json", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    as_uri = _define(monkeypatch, "lite_uri", f"sqlite://{path}")  # sqlite:///absolute/path, as in Airflow
    assert as_json.database_path == as_uri.database_path == str(path)
    as_json.run("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (7);", split_statements=True)
    assert as_uri.get_first("SELECT a FROM t") == (7,)
    assert as_uri.get_uri() == f"sqlite:///{path}"


def test_an_in_memory_database_lives_as_long_as_its_hook(monkeypatch: pytest.MonkeyPatch):
    for value in (json.dumps({"conn_type": "sqlite", "host": ":memory:"}), "sqlite://"):
        hook = _define(monkeypatch, "lite_memory", value)
        assert hook.database_path == ":memory:"
        hook.run("CREATE TABLE t (a INTEGER)")
        hook.insert_rows("t", [(1,), (2,)])
        assert hook.get_records("SELECT a FROM t ORDER BY a") == [(1,), (2,)]
        with pytest.raises(SQLExecutionError):
            hook.run(["INSERT INTO t VALUES (3)", "INSERT INTO nope VALUES (1)"])
        assert hook.get_first("SELECT COUNT(*) FROM t") == (2,)  # rolled back, still there
        assert SqliteHook("lite_memory").get_first("SELECT COUNT(*) FROM sqlite_master") == (0,)  # its own
        hook.close()


def test_extras_become_uri_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "ro.db"
    _define(monkeypatch, "lite_rw", json.dumps({"conn_type": "sqlite", "host": str(path)})).run(
        "CREATE TABLE t (a INTEGER)"
    )
    read_only = _define(
        monkeypatch,
        "lite_ro",
        json.dumps({"conn_type": "sqlite", "host": str(path), "extra": {"mode": "ro"}}),
    )
    assert read_only.get_first("SELECT COUNT(*) FROM t") == (0,)
    with pytest.raises(SQLExecutionError, match=r"connection 'lite_ro'.*readonly database"):
        read_only.run("INSERT INTO t VALUES (1)")


def test_a_file_that_cannot_be_opened_names_the_path_and_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    missing = tmp_path / "no_such_folder" / "app.db"
    hook = _define(monkeypatch, "lite_missing", json.dumps({"conn_type": "sqlite", "host": str(missing)}))
    with pytest.raises(SQLConnectionError) as caught:
        hook.get_records("SELECT 1")
    message = str(caught.value)
    assert f"cannot connect to SQLite database {missing} (connection 'lite_missing')" in message
    assert "unable to open database file" in message
    assert "its folder must exist" in message


def test_several_statements_without_splitting_get_a_hint(sqlite_conn_id: str):
    with pytest.raises(SQLExecutionError, match="pass split_statements=True"):
        SqliteHook(sqlite_conn_id).run("SELECT 1; SELECT 2")


def test_values_sqlite_cannot_bind_are_stored_as_text(sqlite_conn_id: str):
    import datetime as dt
    from decimal import Decimal

    hook = SqliteHook(sqlite_conn_id)
    hook.run("CREATE TABLE t (doc TEXT, at TEXT, amount TEXT)")
    hook.insert_rows("t", [({"a": [1]}, dt.datetime(2024, 1, 2, 3, 4, 5), Decimal("1.50"))])
    assert hook.get_first("SELECT * FROM t") == ('{"a": [1]}', "2024-01-02 03:04:05", "1.50")
