"""SQL operators inside real DAG runs (``test_dag``): connections from env vars, rows in XCom."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import make_url

from tests.db_backends import PG_ADMIN_URL
from tests.runs.conftest import Runs

PRELUDE = """
from updraft.providers.common.sql import (
    SQLColumnCheckOperator, SQLExecuteQueryOperator, SQLTableCheckOperator,
)
from updraft.providers.postgres import PostgresOperator
from updraft.providers.sqlite import SqliteOperator
"""


@pytest.mark.postgres
def test_postgres_operators_in_a_dag_push_rows_to_xcom(
    sql_runs: Runs, pg_schema: str, monkeypatch: pytest.MonkeyPatch
):
    url = make_url(PG_ADMIN_URL)
    options = quote(f"-c search_path={pg_schema}")
    monkeypatch.setenv(
        "UPDRAFT_CONN_WAREHOUSE",
        f"postgresql://{url.username}@{url.host}:{url.port or 5432}/{url.database}?options={options}",
    )
    (sql_runs.folder / "report.sql").write_text(
        "SELECT customer, SUM(amount) AS total, MAX(day) AS last_day FROM orders\n"
        "WHERE day <= '{{ ds }}' AND amount > %(minimum)s GROUP BY customer ORDER BY customer"
    )
    result = sql_runs.run(
        "sql_pg",
        """
        with DAG("sql_pg", schedule=None, start_date=START):
            setup = SQLExecuteQueryOperator(
                task_id="setup",
                conn_id="warehouse",
                sql='''
                    CREATE TABLE orders (customer text, amount numeric(8, 2), day date);
                    -- a value with a semicolon; the split must not cut it
                    INSERT INTO orders VALUES ('ann;1', 10.50, '2024-03-01'), ('bob', 4, '2024-03-02'),
                                              ('ann;1', 2, '2024-03-05'), ('cy', 99, '2024-03-09');
                    SELECT COUNT(*) FROM orders;
                ''',
                split_statements=True,
            )
            report = SQLExecuteQueryOperator(
                task_id="report", conn_id="warehouse", sql="report.sql", parameters={"minimum": 3}
            )
            every = PostgresOperator(
                task_id="every",
                postgres_conn_id="warehouse",
                sql=["SELECT 1 AS one", "SELECT current_setting('statement_timeout')"],
                runtime_parameters={"statement_timeout": "3s"},
            )
            quiet = PostgresOperator(
                task_id="quiet", postgres_conn_id="warehouse", sql="DELETE FROM orders WHERE customer = 'cy'",
                do_xcom_push=False,
            )
            columns = SQLColumnCheckOperator(
                task_id="columns", conn_id="warehouse", table="orders",
                column_mapping={"amount": {"max": {"leq_to": 20}}, "customer": {"null_check": {"equal_to": 0}}},
            )
            setup >> report >> every >> quiet >> columns
        """,
        prelude=PRELUDE,
    )
    assert result.state == "success", [(r.task_id, r.error) for r in result.records]
    xcoms = sql_runs.xcoms("sql_pg")
    assert xcoms[("setup", -1, "return_value")] == [[4]]
    assert xcoms[("report", -1, "return_value")] == [
        ["ann;1", Decimal("10.50"), dt.date(2024, 3, 1)],
        ["bob", Decimal("4.00"), dt.date(2024, 3, 2)],
    ]
    assert xcoms[("every", -1, "return_value")] == [[[1]], [["3s"]]]
    assert ("quiet", -1, "return_value") not in xcoms
    rendered = sql_runs.tis("sql_pg")["report"].rendered_fields
    assert "WHERE day <= '2024-03-05'" in str(rendered)


def test_sqlite_operator_and_a_failing_table_check_in_a_dag(sql_runs: Runs, sqlite_conn_id: str):
    result = sql_runs.run(
        "sql_lite",
        f"""
        with DAG("sql_lite", schedule=None, start_date=START):
            load = SqliteOperator(
                task_id="load",
                sqlite_conn_id={sqlite_conn_id!r},
                sql='''
                    CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, size INTEGER);
                    INSERT INTO events (kind, size) VALUES ('click', 1), ('view', 5), ('click', -2);
                    SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind;
                ''',
                split_statements=True,
            )
            quality = SQLTableCheckOperator(
                task_id="quality",
                conn_id={sqlite_conn_id!r},
                table="events",
                checks={{
                    "enough_rows": {{"check_statement": "COUNT(*) >= 3"}},
                    "sizes_positive": {{"check_statement": "size > 0"}},
                    "few_views": {{"check_statement": "COUNT(*) < 1", "partition_clause": "kind = 'view'"}},
                }},
                retries=0,
            )
            after = EmptyOperator(task_id="after")
            load >> quality >> after
        """,
        prelude=PRELUDE,
    )
    assert result.state == "failed"
    assert sql_runs.states("sql_lite") == {"load": "success", "quality": "failed", "after": "upstream_failed"}
    assert sql_runs.xcoms("sql_lite")[("load", -1, "return_value")] == [["click", 2], ["view", 1]]
    error = next(r.error for r in result.records if r.task_id == "quality")
    assert "SQLTableCheckOperator 'quality': 2 of 3 check(s) failed:" in error
    assert "check 'sizes_positive': got false for 1 of 3 rows, expected (size > 0) to be true" in error
    assert "check 'few_views': got false, expected (COUNT(*) < 1) to be true" in error


def test_an_unknown_connection_fails_the_task_naming_it(sql_runs: Runs):
    result = sql_runs.run(
        "sql_missing",
        """
        with DAG("sql_missing", schedule=None, start_date=START):
            SQLExecuteQueryOperator(task_id="q", conn_id="nowhere_db", sql="SELECT 1", retries=0)
        """,
        prelude=PRELUDE,
    )
    assert result.state == "failed"
    error = result.records[0].error or ""
    assert "connection 'nowhere_db' is not defined" in error
    assert "UPDRAFT_CONN_NOWHERE_DB" in error
