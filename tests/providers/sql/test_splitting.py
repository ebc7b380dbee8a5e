"""split_sql_string: semicolons end statements only outside quotes, dollar quotes, comments and blocks."""

from __future__ import annotations

import pytest

from updraft.providers.common.sql.splitting import split_sql_string


def test_plain_statements_keep_their_semicolon_unless_stripped():
    sql = "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n  SELECT * FROM t  "
    assert split_sql_string(sql) == [
        "CREATE TABLE t (a int);",
        "INSERT INTO t VALUES (1);",
        "SELECT * FROM t",
    ]
    assert split_sql_string(sql, strip_semicolon=True) == [
        "CREATE TABLE t (a int)",
        "INSERT INTO t VALUES (1)",
        "SELECT * FROM t",
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 'a;b' AS x;",
        "SELECT 'it''s; fine' AS x;",
        "SELECT E'back\\'slash; still inside' AS x;",
        'SELECT 1 AS "odd;name";',
        'SELECT 1 AS "say ""hi"";";',
        "SELECT 1 AS `odd;name`;",
        "SELECT $$ a; b $$;",
        "SELECT $body$ has $$; and ; $body$;",
        "SELECT 1 -- a comment; with a semicolon\n + 1;",
        "SELECT /* block; comment */ 1;",
        "SELECT /* nested /* inner; */ still; comment */ 1;",
    ],
)
def test_semicolons_inside_quotes_and_comments_do_not_split(statement):
    assert split_sql_string(f"{statement}\nSELECT 2;") == [statement, "SELECT 2;"]


def test_a_dollar_quoted_function_body_is_one_statement():
    function = (
        "CREATE FUNCTION add_one(i int) RETURNS int AS $fn$\n"
        "BEGIN\n  RETURN i + 1;\nEND;\n$fn$ LANGUAGE plpgsql;"
    )
    assert split_sql_string(f"{function}\nSELECT add_one(1);") == [function, "SELECT add_one(1);"]


def test_identifiers_with_dollars_and_positional_parameters_are_not_dollar_quotes():
    sql = "SELECT a$b$ FROM t WHERE x = $1; SELECT 2;"
    assert split_sql_string(sql) == ["SELECT a$b$ FROM t WHERE x = $1;", "SELECT 2;"]


def test_a_sqlite_trigger_body_is_one_statement():
    trigger = (
        "CREATE TRIGGER audit AFTER INSERT ON t\n"
        "WHEN (CASE WHEN new.a > 0 THEN 1 ELSE 0 END)\n"
        "BEGIN\n"
        "  INSERT INTO log VALUES (new.a);\n"
        "  UPDATE t SET b = CASE WHEN new.a > 1 THEN 'big' ELSE 'small' END WHERE a = new.a;\n"
        "END;"
    )
    assert split_sql_string(f"CREATE TABLE log (a int);\n{trigger}\nINSERT INTO t VALUES (1);") == [
        "CREATE TABLE log (a int);",
        trigger,
        "INSERT INTO t VALUES (1);",
    ]


def test_a_begin_atomic_function_body_is_one_statement():
    function = (
        "CREATE OR REPLACE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;"
    )
    assert split_sql_string(f"{function} SELECT two();") == [function, "SELECT two();"]


def test_transaction_statements_outside_a_create_are_not_blocks():
    assert split_sql_string("BEGIN; SELECT 1; END;") == ["BEGIN;", "SELECT 1;", "END;"]
    assert split_sql_string("SELECT CASE WHEN 1 = 1 THEN 'a;' END; SELECT 2") == [
        "SELECT CASE WHEN 1 = 1 THEN 'a;' END;",
        "SELECT 2",
    ]


def test_comments_stay_with_the_next_statement_and_empty_pieces_are_dropped():
    sql = "-- create it\nCREATE TABLE t (a int);;\n  ;\n/* fill it */ INSERT INTO t VALUES (1); -- done\n"
    assert split_sql_string(sql) == [
        "-- create it\nCREATE TABLE t (a int);",
        "/* fill it */ INSERT INTO t VALUES (1);",
    ]
    assert split_sql_string("  -- only a comment\n /* and another */ ") == []
    assert split_sql_string("") == []


def test_an_unterminated_quote_runs_to_the_end():
    assert split_sql_string("SELECT 1; SELECT 'oops; SELECT 2") == ["SELECT 1;", "SELECT 'oops; SELECT 2"]
