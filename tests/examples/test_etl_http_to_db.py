"""``example_etl_http_to_db``: HTTP extract, pandas transform, idempotent load into SQLite or PostgreSQL."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from tests.examples.conftest import EtlDb, RunExample, errors, states
from tests.providers.http.fake_service import FakeService, Reply
from updraft.core.dagbag import EXAMPLE_DAGS_FOLDER

DAG_ID = "example_etl_http_to_db"
SAMPLE = EXAMPLE_DAGS_FOLDER / "data" / "orders_sample.json"
TABLE = "example_daily_sales"


def expected_sales(orders: list[dict[str, Any]], day: str) -> set[tuple[Any, ...]]:
    """What the load should hold for ``day``, summed here without pandas: paid orders of that day."""
    order_ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    units: dict[tuple[str, str], int] = defaultdict(int)
    revenue: dict[tuple[str, str], float] = defaultdict(float)
    for order in orders:
        if order["status"] != "paid" or not order["created_at"].startswith(day):
            continue
        for item in order["items"]:
            key = (order["country"], item["sku"])
            order_ids[key].add(order["order_id"])
            units[key] += item["qty"]
            revenue[key] += item["qty"] * item["unit_price"]
    return {(day, *key, len(order_ids[key]), units[key], round(revenue[key], 2)) for key in order_ids}


def sample_orders(day: str) -> list[dict[str, Any]]:
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))["orders"]
    return [{**order, "created_at": f"{day}T{order['time']}Z"} for order in sample]


def loaded(db: EtlDb, day: str | None = None) -> set[tuple[Any, ...]]:
    where = f" WHERE sales_date = '{day}'" if day else ""
    rows = db.records(f"SELECT sales_date, country, sku, orders, units, revenue FROM {TABLE}{where}")
    return {(str(d), c, s, int(o), int(u), round(float(r), 2)) for d, c, s, o, u, r in rows}


def test_loads_the_days_paid_orders_and_a_rerun_replaces_only_that_day(
    run_example: RunExample, etl_db: EtlDb
) -> None:
    first = run_example(DAG_ID, "2024-06-01")
    assert first.state.value == "success", errors(first)
    assert states(first) == {"extract": "success", "transform": "success", "load": "success"}
    want_first = expected_sales(sample_orders("2024-06-01"), "2024-06-01")
    assert want_first and loaded(etl_db) == want_first

    second = run_example(DAG_ID, "2024-06-02")
    assert second.state.value == "success", errors(second)
    want_second = expected_sales(sample_orders("2024-06-02"), "2024-06-02")

    # A row left over from an earlier version of the first day goes when that day is loaded again.
    etl_db.hook.run(
        f"INSERT INTO {TABLE} (sales_date, country, sku, orders, units, revenue) "
        "VALUES ('2024-06-01', 'IT', 'stale-sku', 1, 1, 1.00)"
    )
    again = run_example(DAG_ID, "2024-06-01")
    assert again.state.value == "success", errors(again)
    assert loaded(etl_db, "2024-06-01") == want_first
    assert loaded(etl_db, "2024-06-02") == want_second
    assert loaded(etl_db) == want_first | want_second


@pytest.fixture
def source_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeService]:
    with FakeService() as service:
        monkeypatch.setenv(
            "UPDRAFT_CONN_EXAMPLE_SOURCE_API", json.dumps({"conn_type": "http", "host": service.url})
        )
        yield service


def test_the_source_api_connection_replaces_the_bundled_sample(
    run_example: RunExample, source_api: FakeService, etl_db: EtlDb
) -> None:
    orders = [
        {"order_id": "Z-1", "created_at": "2024-07-04T10:00:00Z", "country": "US", "status": "paid",
         "items": [{"sku": "cap", "qty": 3, "unit_price": 12.0}]},
        {"order_id": "Z-2", "created_at": "2024-07-04T11:00:00Z", "country": "US", "status": "paid",
         "items": [{"sku": "cap", "qty": 1, "unit_price": 11.5}, {"sku": "pin", "qty": 10, "unit_price": 0.3}]},
        {"order_id": "Z-3", "created_at": "2024-07-03T23:59:00Z", "country": "US", "status": "paid",
         "items": [{"sku": "cap", "qty": 100, "unit_price": 12.0}]},
        {"order_id": "Z-4", "created_at": "2024-07-04T12:00:00Z", "country": "CA", "status": "cancelled",
         "items": [{"sku": "pin", "qty": 5, "unit_price": 0.3}]},
    ]  # fmt: skip
    source_api.script(Reply(200, {"date": "2024-07-04", "orders": orders}))
    result = run_example(DAG_ID, "2024-07-04")
    assert result.state.value == "success", errors(result)
    [request] = source_api.received
    assert (request.method, request.path) == ("GET", "/v1/orders?date=2024-07-04")
    assert loaded(etl_db) == expected_sales(orders, "2024-07-04")
    assert {row[2] for row in loaded(etl_db)} == {
        "cap",
        "pin",
    }  # the other day and the cancelled order left out


def test_without_pandas_the_transform_fails_saying_what_to_install(
    run_example: RunExample, etl_db: EtlDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` raise ImportError
    result = run_example(DAG_ID, "2024-06-01")
    assert result.state.value == "failed"
    assert states(result)["transform"] == "failed" and states(result)["load"] == "upstream_failed"
    assert "pip install 'updraft[pandas]'" in errors(result)["transform"]
