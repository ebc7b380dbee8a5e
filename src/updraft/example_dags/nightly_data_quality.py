"""Nightly data quality: SQL column and table checks on a payments table, then a report by email.

Run it with ``updraft dags test example_nightly_data_quality 2024-06-01``; add
``--conf '{"bad_rows": true}'`` to see the checks catch bad data and the run fail.
"""

from __future__ import annotations

import csv
import os
import random
from datetime import datetime
from pathlib import Path
from typing import Any

from updraft import DAG, TriggerRule
from updraft.exceptions import UpdraftSkipException
from updraft.hooks import BaseHook
from updraft.operators import EmailOperator, PythonOperator
from updraft.providers.common.sql import SQLColumnCheckOperator, SQLTableCheckOperator
from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.common.sql.operators.base import get_db_hook
from updraft.providers.sqlite import SqliteHook
from updraft.sdk.connection import Connection, ConnectionNotFound
from updraft.sdk.runtime_services import get_services

DB_CONN_ID = "example_etl_db"
TABLE = "example_dq_payments"
CURRENCIES = ("EUR", "USD", "GBP")
CHECK_TASKS = ("column_checks", "table_checks")

CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    payment_id VARCHAR(32) NOT NULL,
    paid_on DATE NOT NULL,
    customer_id INTEGER,
    amount NUMERIC(10, 2),
    currency VARCHAR(3)
)
"""


def updraft_home() -> Path:
    """Where Updraft keeps its state; the fallback database and the reports of this example go there."""
    return Path(os.environ.get("UPDRAFT_HOME") or "~/updraft").expanduser()


def example_db_hook() -> DbApiHook:
    """The hook of ``example_etl_db`` (any SQL connection type), else a SQLite file in UPDRAFT_HOME."""
    try:
        return get_db_hook(DB_CONN_ID)
    except ConnectionNotFound:
        path = updraft_home() / "example_etl.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        hook = SqliteHook(sqlite_conn_id=DB_CONN_ID)
        hook.connection = Connection(conn_id=DB_CONN_ID, conn_type="sqlite", host=str(path))
        return hook


class ExampleDbColumnCheck(SQLColumnCheckOperator):
    """``SQLColumnCheckOperator`` on ``example_etl_db``, or on the SQLite fallback when it is not defined."""

    def get_db_hook(self) -> DbApiHook:
        return example_db_hook()


class ExampleDbTableCheck(SQLTableCheckOperator):
    """``SQLTableCheckOperator`` on ``example_etl_db``, or on the SQLite fallback when it is not defined."""

    def get_db_hook(self) -> DbApiHook:
        return example_db_hook()


def payments_for(day: str, bad_rows: bool) -> list[tuple[Any, ...]]:
    """A day of made-up payments (the same for the same day); ``bad_rows`` adds rows that break the rules."""
    rng = random.Random(day)
    rows: list[tuple[Any, ...]] = [
        (
            f"P{day.replace('-', '')}-{n:03d}",
            day,
            rng.randint(1000, 1099),
            round(rng.uniform(5, 500), 2),
            rng.choice(CURRENCIES),
        )
        for n in range(1, 25)
    ]
    if bad_rows:
        rows += [
            (rows[0][0], day, 1001, 12.5, "EUR"),  # a payment id seen twice
            (f"P{day.replace('-', '')}-900", day, None, 30.0, "EUR"),  # no customer
            (f"P{day.replace('-', '')}-901", day, 1002, -45.0, "USD"),  # a negative amount
            (f"P{day.replace('-', '')}-902", day, 1003, 80.0, "XYZ"),  # an unknown currency
        ]
    return rows


def prepare_payments(ds: str, params: dict[str, Any], **_: Any) -> int:
    """Create the table and (re)write the logical date's payments, in one transaction."""
    hook = example_db_hook()
    hook.run(CREATE_TABLE)
    rows = payments_for(ds, bool(params.get("bad_rows")))
    marker = hook.placeholder
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(f"DELETE FROM {TABLE} WHERE paid_on = {marker}", (ds,))
        cur.executemany(f"INSERT INTO {TABLE} VALUES ({', '.join([marker] * 5)})", rows)
        cur.close()
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
    print(f"wrote {len(rows)} payments for {ds} into {TABLE} ({hook.get_conn_id()})")
    return len(rows)


def _state_of(dag_id: str, run_id: str, task_id: str) -> str:
    services = get_services()
    for state in ("success", "failed", "upstream_failed", "skipped"):
        if services.count_task_instances(dag_id, run_ids=[run_id], task_ids=[task_id], states=[state]):
            return state
    return "unknown"


def build_report(ds: str, dag_run: Any, **_: Any) -> dict[str, Any]:
    """Write a CSV with each check's outcome and a profile of the day's rows; return its path."""
    outcomes = {task_id: _state_of(dag_run.dag_id, dag_run.run_id, task_id) for task_id in CHECK_TASKS}
    hook = example_db_hook()
    rows, customers_missing, lowest, highest, ids, unique_ids = hook.get_first(
        f"SELECT COUNT(*), SUM(CASE WHEN customer_id IS NULL THEN 1 ELSE 0 END), MIN(amount), MAX(amount), "
        f"COUNT(payment_id), COUNT(DISTINCT payment_id) FROM {TABLE} WHERE paid_on = '{ds}'"
    )
    currencies = hook.get_records(
        f"SELECT currency, COUNT(*) FROM {TABLE} WHERE paid_on = '{ds}' GROUP BY currency ORDER BY currency"
    )
    folder = updraft_home() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"data_quality_{ds}.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["section", "name", "value"])
        for task_id, state in outcomes.items():
            writer.writerow(["check", task_id, state])
        writer.writerow(["profile", "rows", rows])
        writer.writerow(["profile", "rows_without_customer", customers_missing or 0])
        writer.writerow(["profile", "duplicate_payment_ids", (ids or 0) - (unique_ids or 0)])
        writer.writerow(["profile", "min_amount", lowest])
        writer.writerow(["profile", "max_amount", highest])
        for currency, count in currencies:
            writer.writerow(["currency", currency, count])
    failed = [task_id for task_id, state in outcomes.items() if state != "success"]
    verdict = f"FAILED ({', '.join(failed)})" if failed else "passed"
    print(f"report for {ds}: {verdict}; written to {path}")
    return {"path": str(path), "verdict": verdict, "failed": failed}


def skip_without_smtp(context: Any) -> None:
    """``pre_execute`` of the email: skip it, saying how to set SMTP up, when no server is configured."""
    try:
        BaseHook.get_connection("smtp_default")
        return
    except ConnectionNotFound:
        pass
    if any(os.environ.get(f"{prefix}__SMTP__SMTP_HOST") for prefix in ("UPDRAFT", "AIRFLOW")):
        return
    raise UpdraftSkipException(
        "no SMTP server is configured, so the report is not sent (it is still on disk): add the "
        "connection smtp_default (updraft connections add smtp_default --conn-uri "
        "'smtp://user:password@mail.example.com:587') or set [smtp] smtp_host in updraft.cfg "
        "(UPDRAFT__SMTP__SMTP_HOST)"
    )


def fail_if_checks_failed(**_: Any) -> None:
    raise RuntimeError(f"data quality checks failed on {TABLE}; see the failed check tasks' logs")


with DAG(
    dag_id="example_nightly_data_quality",
    description="SQL data quality checks every night, with a report sent by email",
    schedule="30 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"owner": "data-team", "retries": 0},
    params={"bad_rows": False, "report_to": "data-quality@example.com"},
    tags=["example", "sql", "data-quality", "email"],
    doc_md="""
    ### Nightly data quality

    Every night at 02:30 (UTC):

    1. **prepare_payments** writes the logical date's payments into `example_dq_payments`, on
       the connection `example_etl_db` or, when it is not defined, the SQLite file
       `$UPDRAFT_HOME/example_etl.db`. Trigger with `{"bad_rows": true}` to add a duplicate id, a
       payment without customer, a negative amount and an unknown currency.
    2. **column_checks** (`SQLColumnCheckOperator`: nulls, uniqueness, amount bounds) and
       **table_checks** (`SQLTableCheckOperator`: enough rows, known currencies) look at that day
       only (`partition_clause`). A failed check lists each failed rule with its measured value.
    3. **build_report** runs whatever the checks did (`trigger_rule="all_done"`) and writes
       `$UPDRAFT_HOME/reports/data_quality_<date>.csv`: each check's outcome and a profile of the day.
    4. **email_report** sends that file as an attachment to `params.report_to` with
       `EmailOperator`, through the connection `smtp_default` or the `[smtp]` configuration.
       **Without either, the email task is skipped** and its log says how to configure SMTP.
    5. **fail_run_if_checks_failed** (`trigger_rule="one_failed"`) makes the DAG run end
       *failed* when a check failed, although the report was still built and sent.
    """,
) as dag:
    prepare = PythonOperator(task_id="prepare_payments", python_callable=prepare_payments)

    partition = "paid_on = '{{ ds }}'"
    column_checks = ExampleDbColumnCheck(
        task_id="column_checks",
        table=TABLE,
        partition_clause=partition,
        retry_on_failure=False,
        column_mapping={
            "payment_id": {"null_check": {"equal_to": 0}, "unique_check": {"equal_to": 0}},
            "customer_id": {"null_check": {"equal_to": 0}},
            "amount": {"null_check": {"equal_to": 0}, "min": {"geq_to": 0}, "max": {"leq_to": 10000}},
        },
    )
    table_checks = ExampleDbTableCheck(
        task_id="table_checks",
        table=TABLE,
        partition_clause=partition,
        retry_on_failure=False,
        checks={
            "enough_rows": {"check_statement": "COUNT(*) >= 10"},
            "known_currency": {"check_statement": f"currency IN {CURRENCIES!r}"},
        },
    )

    report = PythonOperator(
        task_id="build_report", python_callable=build_report, trigger_rule=TriggerRule.ALL_DONE
    )
    email = EmailOperator(
        task_id="email_report",
        to="{{ params.report_to }}",
        subject="Data quality {{ ds }}: {{ ti.xcom_pull(task_ids='build_report')['verdict'] }}",
        html_content=(
            "<p>Data quality checks of <code>example_dq_payments</code> for {{ ds }}: "
            "<b>{{ ti.xcom_pull(task_ids='build_report')['verdict'] }}</b>.</p>"
            "<p>The attached CSV lists each check's outcome and a profile of the day's rows.</p>"
        ),
        files=["{{ ti.xcom_pull(task_ids='build_report')['path'] }}"],
        pre_execute=skip_without_smtp,
    )
    gate = PythonOperator(
        task_id="fail_run_if_checks_failed",
        python_callable=fail_if_checks_failed,
        trigger_rule=TriggerRule.ONE_FAILED,
    )

    prepare >> [column_checks, table_checks] >> report >> email
    [column_checks, table_checks] >> gate
