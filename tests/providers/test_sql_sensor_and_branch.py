"""``SqlSensor`` and ``BranchSQLOperator`` on real databases (a SQLite file and the PostgreSQL test
server): pokes that wait for a row written by another thread, and branches followed in real DAG runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any

import pytest

from tests.operators.helpers import run_task
from tests.providers.sql.conftest import (
    Database,
    db,
    pg_conn_id,
    pg_schema,
    sql_runs,
    sqlite_conn_id,
)
from tests.runs.conftest import Runs
from updraft import DAG
from updraft.operators import EmptyOperator
from updraft.operators.branch_sql import BranchSQLOperator, query_result_as_bool
from updraft.operators.sensors.sql import SqlSensor
from updraft.providers.common.sql.exceptions import SQLExecutionError
from updraft.providers.common.sql.operators.base import get_db_hook
from updraft.sdk.exceptions import UpdraftException, UpdraftSensorTimeout

__all__ = ["db", "pg_conn_id", "pg_schema", "sql_runs", "sqlite_conn_id"]

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SQL_PRELUDE = """
from updraft.operators.branch_sql import BranchSQLOperator
from updraft.operators.sensors.sql import SqlSensor
from updraft.providers.common.sql import SQLExecuteQueryOperator
"""


def placeholder(db: Database) -> str:
    return "?" if db.kind == "sqlite" else "%s"


def make_sensor(conn_id: str, sql: str, **kwargs: Any) -> SqlSensor:
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("timeout", 30)
    with DAG("sql_sensing", start_date=START, schedule=None):
        return SqlSensor(task_id="wait", conn_id=conn_id, sql=sql, **kwargs)


@contextmanager
def later(delay: float, action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` in a thread after ``delay`` seconds; its error, if any, is raised on exit."""

    def work() -> None:
        time.sleep(delay)
        action()

    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(work)
        yield
        done.result(timeout=30)


# -- SqlSensor --------------------------------------------------------------------------------


def test_sensor_keeps_poking_until_a_row_appears(db: Database) -> None:
    db.hook.run("CREATE TABLE arrivals (id INTEGER, ready INTEGER)")
    insert = f"INSERT INTO arrivals VALUES ({placeholder(db)}, 1)"
    sensor = make_sensor(db.conn_id, "SELECT ready FROM arrivals ORDER BY id")

    started = time.monotonic()
    with later(0.5, lambda: db.hook.run(insert, parameters=(1,))):
        run_task(sensor)
        waited = time.monotonic() - started
    assert waited >= 0.5  # the row is written after half a second: every poke before found none


def test_sensor_waits_for_a_true_value_updated_between_pokes(db: Database) -> None:
    db.hook.run("CREATE TABLE job_state (done INTEGER)")
    db.hook.run("INSERT INTO job_state VALUES (0)")
    sensor = make_sensor(db.conn_id, "SELECT done FROM job_state")

    with pytest.raises(UpdraftSensorTimeout):
        run_task(make_sensor(db.conn_id, "SELECT done FROM job_state", timeout=0.2))
    started = time.monotonic()
    with later(0.3, lambda: db.hook.run("UPDATE job_state SET done = 1")):
        run_task(sensor)
        assert time.monotonic() - started >= 0.3


def test_no_rows_means_not_yet_unless_fail_on_empty(db: Database) -> None:
    db.hook.run("CREATE TABLE empty_table (id INTEGER)")
    with pytest.raises(UpdraftSensorTimeout):
        run_task(make_sensor(db.conn_id, "SELECT id FROM empty_table", timeout=0.2))

    started = time.monotonic()
    with pytest.raises(UpdraftException, match="no rows and fail_on_empty") as raised:
        run_task(make_sensor(db.conn_id, "SELECT id FROM empty_table", fail_on_empty=True))
    assert not isinstance(raised.value, UpdraftSensorTimeout)
    assert "'wait'" in str(raised.value) and "'sql_sensing'" in str(raised.value)
    assert time.monotonic() - started < 5  # failed on the first poke, not after the timeout


def test_failure_callable_fails_the_task_before_success_is_asked(db: Database) -> None:
    db.hook.run("CREATE TABLE loads (status TEXT)")
    db.hook.run("INSERT INTO loads VALUES ('error')")
    asked: list[Any] = []

    def success(value: Any) -> bool:
        asked.append(value)
        return True

    sensor = make_sensor(
        db.conn_id,
        "SELECT status FROM loads",
        failure=lambda value: value == "error",
        success=success,
    )
    with pytest.raises(UpdraftException, match=r"failure\('error'\)") as raised:
        run_task(sensor)
    assert not isinstance(raised.value, UpdraftSensorTimeout)
    assert asked == []

    db.hook.run("UPDATE loads SET status = 'ok'")
    run_task(sensor)
    assert asked == ["ok"]


def test_success_callable_and_selector_decide(db: Database) -> None:
    db.hook.run("CREATE TABLE batches (id INTEGER)")
    insert = f"INSERT INTO batches VALUES ({placeholder(db)})"
    seen: list[Any] = []

    def three_or_more(count: Any) -> bool:
        seen.append(count)
        return bool(count >= 3)

    # A count of 1 or 2 is true, yet not enough: success alone decides.
    sensor = make_sensor(
        db.conn_id,
        "SELECT 'batches', COUNT(*) FROM batches",
        selector=itemgetter(1),
        success=three_or_more,
    )

    def add_three() -> None:
        for number in range(3):
            time.sleep(0.15)
            db.hook.run(insert, parameters=(number,))

    with later(0, add_three):
        run_task(sensor)
    assert seen[-1] == 3
    assert all(count < 3 for count in seen[:-1]) and len(seen) > 1


def test_parameters_and_hook_params_are_used(db: Database) -> None:
    db.hook.run("CREATE TABLE flags (name TEXT, value INTEGER)")
    db.hook.run("INSERT INTO flags VALUES ('ready', 1), ('other', 0)")
    sql = f"SELECT value FROM flags WHERE name = {placeholder(db)}"
    run_task(make_sensor(db.conn_id, sql, parameters=("ready",), hook_params={}))
    with pytest.raises(UpdraftSensorTimeout):
        run_task(make_sensor(db.conn_id, sql, parameters=("other",), timeout=0.1))


def test_callables_are_checked_when_the_dag_is_defined() -> None:
    with pytest.raises(TypeError, match="SqlSensor 'wait': success must be a callable"):
        make_sensor("any", "SELECT 1", success=True)
    with pytest.raises(TypeError, match="failure must be a callable"):
        make_sensor("any", "SELECT 1", failure="no")


def test_sensor_templates_and_failure_in_a_dag_run(sql_runs: Runs, sqlite_conn_id: str) -> None:
    (sql_runs.folder / "arrived.sql").write_text("SELECT COUNT(*) FROM arrivals WHERE day = '{{ ds }}'")
    sql_runs.write(
        f"""
        with DAG("sql_sensor_dag", schedule=None, start_date=START):
            setup = SQLExecuteQueryOperator(
                task_id="setup", conn_id={sqlite_conn_id!r},
                sql="CREATE TABLE IF NOT EXISTS arrivals (day TEXT, status TEXT)",
            )
            wait = SqlSensor(
                task_id="wait", conn_id={sqlite_conn_id!r}, sql="arrived.sql", poke_interval=0.1, timeout=30,
            )
            bad = SqlSensor(
                task_id="bad", conn_id={sqlite_conn_id!r},
                sql="SELECT status FROM arrivals WHERE day = '{{{{ ds }}}}'",
                failure=lambda status: status == "broken", poke_interval=0.1, timeout=30, retries=0,
            )
            after_wait = EmptyOperator(task_id="after_wait")
            after_bad = EmptyOperator(task_id="after_bad")
            setup >> wait >> after_wait
            wait >> bad >> after_bad
        """,
        prelude=SQL_PRELUDE,
    )
    hook = get_db_hook(sqlite_conn_id)

    def arrive() -> None:
        # Written by another thread while the run goes on, once the setup task made the table.
        deadline = time.monotonic() + 20
        while True:
            try:
                hook.run("INSERT INTO arrivals VALUES ('2024-03-05', 'broken')")
                return
            except SQLExecutionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    with later(0.5, arrive):
        result = sql_runs.run("sql_sensor_dag")
    assert sql_runs.states("sql_sensor_dag") == {
        "setup": "success",
        "wait": "success",
        "after_wait": "success",
        "bad": "failed",
        "after_bad": "upstream_failed",
    }
    assert result.state == "failed"
    errors = {record.task_id: record.error for record in result.records}
    assert "failure('broken')" in str(errors["bad"])
    rendered = sql_runs.tis("sql_sensor_dag")["wait"].rendered_fields
    assert "WHERE day = '2024-03-05'" in str(rendered)


# -- BranchSQLOperator -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (7, True),
        ("true", True),
        ("Yes", True),
        ("Y", True),
        ("t", True),
        ("1", True),
        (" ON ", True),
        ("false", False),
        ("NO", False),
        ("n", False),
        ("F", False),
        ("0", False),
        ("off", False),
        ("maybe", None),
        ("", None),
        (None, None),
        (1.0, None),
        (b"1", None),
    ],
)
def test_query_result_as_bool(value: Any, expected: bool | None) -> None:
    assert query_result_as_bool(value) is expected


def make_branch(conn_id: str, sql: str, **kwargs: Any) -> BranchSQLOperator:
    with DAG("sql_branching", start_date=START, schedule=None):
        branch = BranchSQLOperator(
            task_id="choose",
            conn_id=conn_id,
            sql=sql,
            follow_task_ids_if_true="go",
            follow_task_ids_if_false=["stop"],
            **kwargs,
        )
        branch >> [EmptyOperator(task_id="go"), EmptyOperator(task_id="stop")]
    return branch


@pytest.mark.parametrize(
    ("sql", "skipped"),
    [("SELECT 'Yes'", {"stop"}), ("SELECT 0", {"go"}), ("SELECT 1 = 1", {"stop"}), ("SELECT 'off'", {"go"})],
)
def test_branch_reads_the_first_cell(db: Database, sql: str, skipped: set[str]) -> None:
    # PostgreSQL answers "1 = 1" with a boolean, SQLite with the integer 1.
    outcome = run_task(make_branch(db.conn_id, sql))
    assert outcome.ti.skipped == skipped
    assert outcome.result is None


def test_branch_parameters_and_database_override(db: Database) -> None:
    db.hook.run("CREATE TABLE switches (name TEXT, value TEXT)")
    db.hook.run("INSERT INTO switches VALUES ('deploy', 'n'), ('report', 'y')")
    sql = f"SELECT value FROM switches WHERE name = {placeholder(db)}"
    assert run_task(make_branch(db.conn_id, sql, parameters=("deploy",))).ti.skipped == {"go"}
    assert run_task(make_branch(db.conn_id, sql, parameters=("report",))).ti.skipped == {"stop"}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 'maybe'", "result 'maybe' (str) as true or false"),
        ("SELECT NULL", "result None (NoneType) as true or false"),
        ("SELECT 2.5", "2.5"),
    ],
)
def test_a_value_that_is_not_a_boolean_is_a_clear_error(db: Database, sql: str, message: str) -> None:
    with pytest.raises(UpdraftException, match="BranchSQLOperator 'choose' in DAG 'sql_branching'") as raised:
        run_task(make_branch(db.conn_id, sql))
    assert message in str(raised.value)
    assert "yes" in str(raised.value) and "off" in str(raised.value)


def test_a_query_without_rows_is_a_clear_error(db: Database) -> None:
    db.hook.run("CREATE TABLE no_flags (flag INTEGER)")
    with pytest.raises(UpdraftException, match=r"'choose'.*returned no rows"):
        run_task(make_branch(db.conn_id, "SELECT flag FROM no_flags"))


BRANCH_DAG = """
with DAG("sql_branch_dag", schedule=None, start_date=START):
    setup = SQLExecuteQueryOperator(
        task_id="setup", conn_id={conn_id!r}, split_statements=True,
        sql='''
            CREATE TABLE settings (name TEXT, enabled {flag_type});
            INSERT INTO settings VALUES ('publish', {true}), ('archive', {false});
        ''',
    )
    publish = BranchSQLOperator(
        task_id="publish", conn_id={conn_id!r},
        sql="SELECT enabled FROM settings WHERE name = 'publish'",
        follow_task_ids_if_true="do_publish", follow_task_ids_if_false=["no_publish"],
    )
    archive = BranchSQLOperator(
        task_id="archive", conn_id={conn_id!r}, sql="archive.sql",
        follow_task_ids_if_true=["do_archive", "tell"], follow_task_ids_if_false="no_archive",
    )
    weird = BranchSQLOperator(
        task_id="weird", conn_id={conn_id!r}, sql="SELECT 'perhaps'",
        follow_task_ids_if_true="weird_true", follow_task_ids_if_false="weird_false", retries=0,
    )
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    setup >> [publish, archive]
    publish >> [EmptyOperator(task_id="do_publish"), EmptyOperator(task_id="no_publish")] >> join
    archive >> [EmptyOperator(task_id="do_archive"), EmptyOperator(task_id="no_archive")] >> join
    archive >> EmptyOperator(task_id="tell")
    weird >> [EmptyOperator(task_id="weird_true"), EmptyOperator(task_id="weird_false")]
"""


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_branches_in_a_dag_run(sql_runs: Runs, kind: str, request: pytest.FixtureRequest) -> None:
    conn_id = request.getfixturevalue("sqlite_conn_id" if kind == "sqlite" else "pg_conn_id")
    flags = {"flag_type": "INTEGER", "true": 1, "false": 0}
    if kind == "postgres":
        flags = {"flag_type": "BOOLEAN", "true": "TRUE", "false": "FALSE"}
    (sql_runs.folder / "archive.sql").write_text(
        "SELECT enabled FROM settings WHERE name = 'archive' -- {{ ds }}"
    )
    sql_runs.write(BRANCH_DAG.format(conn_id=conn_id, **flags), prelude=SQL_PRELUDE)
    result = sql_runs.run("sql_branch_dag")

    assert sql_runs.states("sql_branch_dag") == {
        "setup": "success",
        "publish": "success",
        "do_publish": "success",
        "no_publish": "skipped",
        "archive": "success",
        "do_archive": "skipped",
        "tell": "skipped",
        "no_archive": "success",
        "join": "success",
        "weird": "failed",
        "weird_true": "upstream_failed",
        "weird_false": "upstream_failed",
    }
    assert result.state == "failed"
    errors = {record.task_id: record.error for record in result.records}
    assert "BranchSQLOperator 'weird' in DAG 'sql_branch_dag'" in str(errors["weird"])
    assert "'perhaps'" in str(errors["weird"])
    rendered = sql_runs.tis("sql_branch_dag")["archive"].rendered_fields
    assert "-- 2024-03-05" in str(rendered)
    assert ("publish", -1, "return_value") not in sql_runs.xcoms("sql_branch_dag")
