"""The data-quality check operators, passing and failing, on SQLite and on PostgreSQL.

Each failure must list every failed check with the value measured and the value expected.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.operators.helpers import run_task
from tests.providers.sql.conftest import Database
from updraft.providers.common.sql import (
    SQLCheckFailed,
    SQLCheckOperator,
    SQLColumnCheckOperator,
    SQLIntervalCheckOperator,
    SQLTableCheckOperator,
    SQLThresholdCheckOperator,
    SQLValueCheckOperator,
)
from updraft.providers.common.sql.exceptions import SQLCheckFailedNoRetry
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import UpdraftFailException

# The helpers' logical date is 2024-03-05: "today" for the interval check, 2024-02-27 a week before.
ORDERS = [
    (1, "2024-03-05", "ann", 10, "paid"),
    (2, "2024-03-05", "bob", 20, "paid"),
    (3, "2024-03-05", "cy", 100, "open"),
    (4, "2024-03-05", None, 70, "paid"),
    (5, "2024-02-27", "ann", 10, "paid"),
    (6, "2024-02-27", "bob", 30, "paid"),
    (7, "2024-02-27", "cy", 60, "open"),
]


@pytest.fixture
def orders(db: Database) -> Database:
    db.hook.run("CREATE TABLE orders (id INTEGER, ds TEXT, customer TEXT, amount INTEGER, status TEXT)")
    db.hook.insert_rows("orders", ORDERS)
    return db


def check(operator_class: type, db: Database, **kwargs: Any) -> Any:
    """Build the operator in a DAG, on the test database, and run it as the runtime would."""
    with DAG("checks", schedule=None):
        task = operator_class(task_id="check", conn_id=db.conn_id, **kwargs)
    return run_task(task)


def failures_of(operator_class: type, db: Database, **kwargs: Any) -> tuple[str, list[str]]:
    with pytest.raises(SQLCheckFailed) as caught:
        check(operator_class, db, **kwargs)
    return str(caught.value), caught.value.failures


# -- SQLCheckOperator --------------------------------------------------------------------------------


def test_check_passes_when_every_value_of_the_first_row_is_true(orders: Database):
    check(SQLCheckOperator, orders, sql="SELECT COUNT(*), MIN(amount), MAX(status) FROM orders")


def test_check_fails_listing_each_false_value(orders: Database):
    message, failures = failures_of(
        SQLCheckOperator,
        orders,
        sql="SELECT COUNT(*) AS n, SUM(CASE WHEN amount > 90 THEN 1 ELSE 0 END) - 1 AS big_minus_one, "
        "'' AS blank, MAX(customer) AS last_name, NULL AS missing FROM orders",
    )
    assert message.startswith("SQLCheckOperator 'check': 3 of 5 check(s) failed:")
    assert failures == [
        "column 'big_minus_one': got 0, expected a true value (not 0, '', NULL or false)",
        "column 'blank': got '', expected a true value (not 0, '', NULL or false)",
        "column 'missing': got None, expected a true value (not 0, '', NULL or false)",
    ]
    assert "SQL: SELECT COUNT(*) AS n" in message


def test_check_fails_when_the_query_returns_no_rows(orders: Database):
    _, failures = failures_of(SQLCheckOperator, orders, sql="SELECT id FROM orders WHERE id < 0")
    assert failures == ["the query returned no rows, expected one row of true values"]


def test_retry_on_failure_false_fails_without_retries(orders: Database):
    with pytest.raises(SQLCheckFailedNoRetry) as caught:
        check(SQLCheckOperator, orders, sql="SELECT 0", retry_on_failure=False)
    assert isinstance(caught.value, UpdraftFailException)


# -- SQLValueCheckOperator ---------------------------------------------------------------------------


def test_value_check_passes_exactly_or_within_tolerance(orders: Database):
    check(
        SQLValueCheckOperator, orders, sql="SELECT COUNT(*) FROM orders WHERE ds = '2024-03-05'", pass_value=4
    )
    check(
        SQLValueCheckOperator,
        orders,
        sql="SELECT SUM(amount), 195 FROM orders WHERE id < 5",
        pass_value=190,
        tolerance=0.1,
    )
    check(SQLValueCheckOperator, orders, sql="SELECT status FROM orders WHERE id = 1", pass_value="paid")


def test_value_check_lists_each_value_off_the_pass_value(orders: Database):
    message, failures = failures_of(
        SQLValueCheckOperator,
        orders,
        sql="SELECT COUNT(*) AS n, SUM(amount) AS total, 105 AS close_enough FROM orders",
        pass_value=100,
        tolerance=0.1,
    )
    assert message.startswith("SQLValueCheckOperator 'check': 2 of 3 check(s) failed:")
    assert failures == [
        "column 'n': got 7, expected 100 ± 10.0% (90 to 110)",
        "column 'total': got 300, expected 100 ± 10.0% (90 to 110)",
    ]


def test_value_check_compares_text_when_the_pass_value_is_not_a_number(orders: Database):
    _, failures = failures_of(
        SQLValueCheckOperator,
        orders,
        sql="SELECT status, customer FROM orders WHERE id = 3",
        pass_value="paid",
    )
    assert failures == [
        "column 'status': got 'open', expected 'paid'",
        "column 'customer': got 'cy', expected 'paid'",
    ]
    _, failures = failures_of(SQLValueCheckOperator, orders, sql="SELECT 'abc' AS word", pass_value=3)
    assert failures == ["column 'word': got 'abc', which is not a number; expected 3"]


# -- SQLIntervalCheckOperator ------------------------------------------------------------------------

METRICS = {"COUNT(*)": 1.5, "SUM(amount)": 2.5}  # today: 4 orders, 200; a week before: 3 orders, 100


def test_interval_check_passes_within_the_thresholds(orders: Database):
    check(SQLIntervalCheckOperator, orders, table="orders", metrics_thresholds=METRICS)
    check(
        SQLIntervalCheckOperator,
        orders,
        table="orders",
        metrics_thresholds={"COUNT(*)": 0.5, "SUM(amount)": 1.01},
        ratio_formula="relative_diff",
    )


def test_interval_check_lists_each_metric_over_its_threshold(orders: Database):
    message, failures = failures_of(
        SQLIntervalCheckOperator,
        orders,
        table="orders",
        metrics_thresholds={"COUNT(*)": 1.2, "SUM(amount)": 1.5, "MAX(id)": 10},
    )
    assert message.startswith("SQLIntervalCheckOperator 'check': 2 of 3 check(s) failed:")
    assert failures == [
        "metric 'COUNT(*)': max_over_min ratio 1.333 (current 4, reference 3 from 7 days back), expected below 1.2",
        "metric 'SUM(amount)': max_over_min ratio 2 (current 200, reference 100 from 7 days back), expected below 1.5",
    ]
    assert "WHERE ds='2024-03-05'" in message and "WHERE ds='2024-02-27'" in message


def test_interval_check_zero_values_pass_only_with_ignore_zero(orders: Database):
    orders.hook.run("DELETE FROM orders WHERE ds = '2024-02-27'")
    check(SQLIntervalCheckOperator, orders, table="orders", metrics_thresholds=METRICS)
    _, failures = failures_of(
        SQLIntervalCheckOperator, orders, table="orders", metrics_thresholds=METRICS, ignore_zero=False
    )
    assert failures == [
        "metric 'COUNT(*)': current 4, reference 0 (7 days back); a zero or NULL value fails because "
        "ignore_zero=False (expected a max_over_min ratio below 1.5)",
        "metric 'SUM(amount)': current 200, reference None (7 days back); a zero or NULL value fails because "
        "ignore_zero=False (expected a max_over_min ratio below 2.5)",
    ]


def test_interval_check_refuses_an_unknown_formula():
    with pytest.raises(ValueError, match="unknown ratio_formula 'median'"), DAG("checks", schedule=None):
        SQLIntervalCheckOperator(
            task_id="c", table="t", metrics_thresholds={"COUNT(*)": 1}, ratio_formula="median"
        )


# -- SQLThresholdCheckOperator -----------------------------------------------------------------------


def test_threshold_check_passes_between_numeric_or_sql_bounds(orders: Database):
    check(
        SQLThresholdCheckOperator, orders, sql="SELECT COUNT(*) FROM orders", min_threshold=1, max_threshold=7
    )
    check(
        SQLThresholdCheckOperator,
        orders,
        sql="SELECT AVG(amount) FROM orders",
        min_threshold="SELECT MIN(amount) FROM orders",
        max_threshold="SELECT MAX(amount) FROM orders",
    )


def test_threshold_check_failure_shows_the_result_and_both_bounds(orders: Database):
    message, failures = failures_of(
        SQLThresholdCheckOperator,
        orders,
        sql="SELECT MAX(amount) FROM orders",
        min_threshold="SELECT MIN(amount) FROM orders",
        max_threshold=50,
    )
    assert message.startswith("SQLThresholdCheckOperator 'check': 1 of 1 check(s) failed:")
    assert failures == [
        "got 100, expected between 10 (from min_threshold: SELECT MIN(amount) FROM orders) and 50"
    ]


# -- SQLColumnCheckOperator --------------------------------------------------------------------------

PASSING_COLUMNS = {
    "id": {"unique_check": {"equal_to": 0}, "null_check": {"equal_to": 0}, "min": {"geq_to": 1}},
    "customer": {"null_check": {"equal_to": 1}, "distinct_check": {"equal_to": 3}},
    "amount": {"min": {"greater_than": 9}, "max": {"leq_to": 95, "tolerance": 0.1}},
}


def test_column_check_passes(orders: Database):
    check(SQLColumnCheckOperator, orders, table="orders", column_mapping=PASSING_COLUMNS)


def test_column_check_lists_each_failed_check_with_its_value_and_bounds(orders: Database):
    message, failures = failures_of(
        SQLColumnCheckOperator,
        orders,
        table="orders",
        column_mapping={
            "id": {"unique_check": {"equal_to": 0}},
            "customer": {"null_check": {"equal_to": 0}, "distinct_check": {"geq_to": 2, "less_than": 4}},
            "amount": {"min": {"greater_than": 10}, "max": {"less_than": 80, "tolerance": 0.2}},
            "status": {"distinct_check": {"equal_to": 1, "partition_clause": "amount > 50"}},
        },
    )
    assert message.startswith("SQLColumnCheckOperator 'check': 4 of 6 check(s) failed:")
    assert failures == [
        "column 'customer' null_check: got 1, expected == 0",
        "column 'amount' min: got 10, expected > 10",
        "column 'amount' max: got 100, expected < 96 (less_than 80 with tolerance 20%)",
        "column 'status' distinct_check: got 2, expected == 1",
    ]


def test_column_check_partition_clauses_combine(orders: Database):
    mapping = {
        "amount": {"max": {"equal_to": 20}, "min": {"equal_to": 20, "partition_clause": "customer = 'bob'"}}
    }
    check(SQLColumnCheckOperator, orders, table="orders", column_mapping=mapping, partition_clause="id <= 2")
    _, failures = failures_of(
        SQLColumnCheckOperator,
        orders,
        table="orders",
        column_mapping={"amount": {"max": {"equal_to": 20}}},
        partition_clause="ds = '2024-02-27'",
    )
    assert failures == ["column 'amount' max: got 60, expected == 20"]


def test_column_check_null_results_count_as_zero_unless_accept_none_is_off(orders: Database):
    mapping = {"amount": {"null_check": {"equal_to": 0}}}
    check(SQLColumnCheckOperator, orders, table="orders", column_mapping=mapping, partition_clause="id < 0")
    _, failures = failures_of(
        SQLColumnCheckOperator,
        orders,
        table="orders",
        column_mapping=mapping,
        partition_clause="id < 0",
        accept_none=False,
    )
    assert failures == ["column 'amount' null_check: got None, expected == 0"]


@pytest.mark.parametrize(
    ("mapping", "error"),
    [
        ({"a": {"median": {"equal_to": 1}}}, "unknown check"),
        ({"a": {"min": {}}}, "give one or more of"),
        ({"a": {"min": {"equal_to": 1, "greater_than": 0}}}, "equal_to cannot be combined"),
        ({"a": {"min": {"greater_than": 1, "geq_to": 0}}}, "only one of greater_than or geq_to"),
        ({"a": {"min": {"greater_than": 5, "less_than": 5}}}, "must be below the upper bound"),
        ({"a": {"min": {"equal_to": 1, "partition_clause": "1=1; DROP TABLE t"}}}, "must not contain ';'"),
    ],
)
def test_column_check_mappings_are_validated_when_the_dag_is_defined(mapping, error):
    with pytest.raises(ValueError, match=error), DAG("checks", schedule=None):
        SQLColumnCheckOperator(task_id="c", table="t", column_mapping=mapping)


# -- SQLTableCheckOperator ---------------------------------------------------------------------------


def test_table_check_passes(orders: Database):
    checks = {
        "row_count": {"check_statement": "COUNT(*) = 7"},
        "positive": {"check_statement": "amount > 0"},
        "paid_are_cheap": {"check_statement": "amount < 80", "partition_clause": "status = 'paid'"},
    }
    check(SQLTableCheckOperator, orders, table="orders", checks=checks)


def test_table_check_lists_each_failed_check(orders: Database):
    message, failures = failures_of(
        SQLTableCheckOperator,
        orders,
        table="orders",
        partition_clause="ds = '2024-03-05'",
        checks={
            "row_count": {"check_statement": "COUNT(*) = 1000"},
            "positive": {"check_statement": "amount > 0"},
            "cheap": {"check_statement": "amount < 50"},
            "nobody": {"check_statement": "amount > 0", "partition_clause": "customer = 'zed'"},
        },
    )
    assert message.startswith("SQLTableCheckOperator 'check': 3 of 4 check(s) failed:")
    assert failures == [
        "check 'row_count': got false, expected (COUNT(*) = 1000) to be true",
        "check 'cheap': got false for 2 of 4 rows, expected (amount < 50) to be true",
        "check 'nobody': no rows to check (amount > 0), expected at least one row",
    ]


def test_table_check_refuses_a_check_without_a_statement():
    with (
        pytest.raises(ValueError, match="check 'x': give a dict with a 'check_statement'"),
        DAG("c", schedule=None),
    ):
        SQLTableCheckOperator(task_id="c", table="t", checks={"x": {"statement": "1 = 1"}})
