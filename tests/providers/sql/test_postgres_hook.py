"""PostgresHook against the real server: extras, COPY, typed rows, and clear connection failures."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.providers.sql.conftest import pg_connection, set_connection
from tests.providers.sql.fake_postgres import PasswordRefusingServer
from updraft.providers.common.sql import SQLConnectionError, SQLExecutionError
from updraft.providers.postgres import PostgresHook

pytestmark = pytest.mark.postgres

SECRET = "s3cret-Pa55word"


def test_extras_reach_libpq(pg_conn_id: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch):
    extra = {
        "options": f"-c search_path={pg_schema}",
        "application_name": "updraft-test",
        "sslmode": "disable",
    }
    set_connection(monkeypatch, pg_connection(pg_conn_id, extra=json.dumps(extra)))
    hook = PostgresHook(pg_conn_id)
    assert hook.get_first("SELECT current_schema(), current_setting('application_name')") == (
        pg_schema,
        "updraft-test",
    )
    assert hook.get_first("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == (False,)


def test_an_extra_that_is_not_a_libpq_parameter_is_ignored_with_a_warning(
    pg_conn_id: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    set_connection(monkeypatch, pg_connection(pg_conn_id, extra=json.dumps({"colour": "blue"})))
    with caplog.at_level(logging.WARNING):
        assert PostgresHook(pg_conn_id).get_first("SELECT 1") == (1,)
    assert "ignoring extra 'colour'" in caplog.text


def test_a_cursor_extra_gives_dict_rows(pg_conn_id: str, monkeypatch: pytest.MonkeyPatch):
    set_connection(monkeypatch, pg_connection(pg_conn_id, extra=json.dumps({"cursor": "dictcursor"})))
    assert PostgresHook(pg_conn_id).get_records("SELECT 1 AS one, 'x' AS two") == [{"one": 1, "two": "x"}]


def test_the_database_argument_overrides_the_connections(pg_conn_id: str):
    assert PostgresHook(pg_conn_id, database="postgres").get_first("SELECT current_database()") == (
        "postgres",
    )
    assert PostgresHook(pg_conn_id, schema="postgres").get_first("SELECT current_database()") == ("postgres",)


def test_a_database_that_does_not_exist_is_named_in_the_error(pg_conn_id: str):
    with pytest.raises(SQLConnectionError) as caught:
        PostgresHook(pg_conn_id, database="no_such_db_here").get_first("SELECT 1")
    message = str(caught.value)
    assert f"(connection {pg_conn_id!r})" in message
    assert 'database "no_such_db_here" does not exist' in message
    assert "Check the database" in message


def test_a_wrong_password_fails_clearly_and_never_shows_the_password(monkeypatch: pytest.MonkeyPatch):
    with PasswordRefusingServer() as server:
        conn_id = set_connection(
            monkeypatch,
            pg_connection(
                "pg_wrong_password", host="127.0.0.1", port=server.port, login="bob", password=SECRET
            ),
        )
        hook = PostgresHook(conn_id)
        with pytest.raises(SQLConnectionError) as caught:
            hook.run("SELECT 1")
        ok, tested = hook.test_connection()
    assert server.passwords[0] == SECRET  # the hook did send it...
    message = str(caught.value)
    assert SECRET not in message and SECRET not in repr(caught.value)  # ...and never shows it
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{server.port}" in message
    assert "(connection 'pg_wrong_password')" in message
    assert 'password authentication failed for user "bob"' in message
    assert "Check the login and password of connection 'pg_wrong_password'" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert (ok, SECRET in tested, "pg_wrong_password" in tested) == (False, False, True)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_fails_fast_with_the_host_and_the_connection(monkeypatch: pytest.MonkeyPatch):
    port = _closed_port()
    conn_id = set_connection(
        monkeypatch, pg_connection("pg_nowhere", host="127.0.0.1", port=port, password=SECRET)
    )
    started = time.monotonic()
    with pytest.raises(SQLConnectionError) as caught:
        PostgresHook(conn_id).get_records("SELECT 1")
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in message
    assert "(connection 'pg_nowhere')" in message
    assert "Connection refused" in message
    assert "Check the host and port of connection 'pg_nowhere'" in message
    assert SECRET not in message


def test_a_host_that_does_not_answer_times_out_after_connect_timeout(monkeypatch: pytest.MonkeyPatch):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts TCP, never speaks
        port = silent.getsockname()[1]
        conn_id = set_connection(
            monkeypatch,
            pg_connection("pg_silent", host="127.0.0.1", port=port, extra=json.dumps({"connect_timeout": 1})),
        )
        started = time.monotonic()
        with pytest.raises(SQLConnectionError, match=r"connection 'pg_silent'.*timeout expired"):
            PostgresHook(conn_id).get_first("SELECT 1")
    assert time.monotonic() - started < 8


def test_insert_rows_copies_typed_values(pg_conn_id: str):
    hook = PostgresHook(pg_conn_id)
    hook.run(
        "CREATE TABLE typed (id int PRIMARY KEY, at timestamptz, amount numeric(10, 2), "
        "flag boolean, doc jsonb, raw bytea, note text)"
    )
    at = dt.datetime(2024, 3, 5, 6, 7, 8, tzinfo=dt.timezone.utc)
    rows = [
        (1, at, Decimal("12.34"), True, {"k": [1, 2]}, b"\x00\x01", "tab\there\nnew line \\ back"),
        (2, None, None, None, None, None, None),
    ]
    hook.insert_rows("typed", rows)
    assert hook.get_records("SELECT * FROM typed ORDER BY id") == [
        (1, at, Decimal("12.34"), True, {"k": [1, 2]}, b"\x00\x01", "tab\there\nnew line \\ back"),
        (2, None, None, None, None, None, None),
    ]


def test_insert_rows_replace_uses_the_primary_key_or_replace_index(pg_conn_id: str):
    hook = PostgresHook(pg_conn_id)
    hook.run("CREATE TABLE kv (k text PRIMARY KEY, v int, note text)")
    hook.insert_rows("kv", [("a", 1, "x")])
    hook.insert_rows("kv", [("a", 2, "y"), ("b", 3, "z")], target_fields=["k", "v", "note"], replace=True)
    hook.insert_rows("kv", [("a", 9)], target_fields=["k", "v"], replace=True, replace_index="k")
    assert hook.get_records("SELECT * FROM kv ORDER BY k") == [("a", 9, "y"), ("b", 3, "z")]
    with pytest.raises(ValueError, match="needs target_fields"):
        hook.insert_rows("kv", [("c", 1, "n")], replace=True)


def test_copy_expert_loads_and_dumps_files(pg_conn_id: str, tmp_path: Path):
    hook = PostgresHook(pg_conn_id)
    hook.run("CREATE TABLE people (name text, age int)")
    source = tmp_path / "people.csv"
    source.write_text('name,age\nAda,36\n"Lovelace, A",\n')
    hook.copy_expert("COPY people FROM STDIN WITH (FORMAT csv, HEADER true)", str(source))
    assert hook.get_records("SELECT * FROM people ORDER BY name") == [("Ada", 36), ("Lovelace, A", None)]
    target = tmp_path / "out.csv"
    hook.copy_expert("COPY (SELECT * FROM people ORDER BY name) TO STDOUT WITH (FORMAT csv)", str(target))
    assert target.read_text() == 'Ada,36\n"Lovelace, A",\n'
    with pytest.raises(FileNotFoundError, match=r"missing\.csv does not exist"):
        hook.copy_expert("COPY people FROM STDIN", str(tmp_path / "missing.csv"))


def test_a_bad_copy_file_loads_nothing_and_says_which_line(pg_conn_id: str, tmp_path: Path):
    hook = PostgresHook(pg_conn_id)
    hook.run("CREATE TABLE nums (n int)")
    source = tmp_path / "nums.tsv"
    source.write_text("1\n2\nthree\n4\n")
    with pytest.raises(SQLExecutionError) as caught:
        hook.bulk_load("nums", str(source))
    message = str(caught.value)
    assert f"COPY failed on connection {pg_conn_id!r}" in message
    assert "line 3" in message
    assert hook.get_first("SELECT COUNT(*) FROM nums") == (0,)


def test_statement_errors_quote_the_statement_and_the_servers_hint(pg_conn_id: str):
    hook = PostgresHook(pg_conn_id)
    with pytest.raises(SQLExecutionError) as caught:
        hook.run("SELECT * FROM missing_table_xyz")
    message = str(caught.value)
    assert message.startswith(f"SQL failed on connection {pg_conn_id!r}: psycopg.errors.UndefinedTable")
    assert "SQL: SELECT * FROM missing_table_xyz" in message


def test_a_sqlalchemy_engine_from_the_connection(pg_conn_id: str, pg_schema: str):
    from sqlalchemy import text

    engine = PostgresHook(pg_conn_id).get_sqlalchemy_engine()
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_schema()")).scalar() == pg_schema
    finally:
        engine.dispose()
