"""ETL: orders from an HTTP API, summed per country and product with pandas, loaded into a database.

Run it with ``updraft dags test example_etl_http_to_db 2024-06-01``; it needs ``updraft[pandas]``.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from updraft import dag, task
from updraft.exceptions import UpdraftFailException
from updraft.hooks import BaseHook
from updraft.providers.common.sql.hooks.sql import DbApiHook
from updraft.providers.common.sql.operators.base import get_db_hook
from updraft.providers.http import HttpHook
from updraft.providers.sqlite import SqliteHook
from updraft.sdk.connection import Connection, ConnectionNotFound

SOURCE_CONN_ID = "example_source_api"
DB_CONN_ID = "example_etl_db"
ORDERS_ENDPOINT = "v1/orders"
SAMPLE_FILE = Path(__file__).parent / "data" / "orders_sample.json"
TABLE = "example_daily_sales"
COLUMNS = ("sales_date", "country", "sku", "orders", "units", "revenue")

# Portable between SQLite and PostgreSQL: sales_date is an ISO date ('YYYY-MM-DD').
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    sales_date DATE NOT NULL,
    country VARCHAR(2) NOT NULL,
    sku VARCHAR(64) NOT NULL,
    orders INTEGER NOT NULL,
    units INTEGER NOT NULL,
    revenue NUMERIC(12, 2) NOT NULL,
    PRIMARY KEY (sales_date, country, sku)
)
"""


def updraft_home() -> Path:
    """Where Updraft keeps its state; the fallback database of this example lives there too."""
    return Path(os.environ.get("UPDRAFT_HOME") or "~/updraft").expanduser()


def etl_db_hook() -> DbApiHook:
    """The hook of ``example_etl_db`` (any SQL connection type), else a SQLite file in UPDRAFT_HOME."""
    try:
        return get_db_hook(DB_CONN_ID)
    except ConnectionNotFound:
        path = updraft_home() / "example_etl.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        hook = SqliteHook(sqlite_conn_id=DB_CONN_ID)
        hook.connection = Connection(conn_id=DB_CONN_ID, conn_type="sqlite", host=str(path))
        hook.log.info("connection %r is not defined: using the SQLite file %s", DB_CONN_ID, path)
        return hook


# -- a stand-in for the orders API ------------------------------------------------------------------


class _SampleOrdersHandler(BaseHTTPRequestHandler):
    """``GET /v1/orders?date=YYYY-MM-DD``: the bundled sample day, stamped with the requested date."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        day = (parse_qs(url.query).get("date") or [""])[0]
        if url.path.strip("/") != ORDERS_ENDPOINT or len(day) != 10:
            self.send_error(404, "try /v1/orders?date=YYYY-MM-DD")
            return
        sample = json.loads(SAMPLE_FILE.read_text(encoding="utf-8"))
        orders = [
            {**{k: v for k, v in order.items() if k != "time"}, "created_at": f"{day}T{order['time']}Z"}
            for order in sample["orders"]
        ]
        body = json.dumps({"date": day, "orders": orders}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def sample_api() -> Any:
    """Serve the sample orders on a free loopback port for as long as the block runs; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SampleOrdersHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- the DAG ------------------------------------------------------------------------------------------


@dag(
    dag_id="example_etl_http_to_db",
    description="Orders from an HTTP API, summed with pandas, loaded into SQLite or PostgreSQL",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"owner": "data-team", "retries": 1, "retry_delay": timedelta(seconds=10)},
    tags=["example", "etl", "http", "sql", "pandas"],
    doc_md="""
    ### ETL: HTTP API to a database

    1. **extract** calls `GET /v1/orders?date={{ ds }}` with `HttpHook`. When the connection
       `example_source_api` is defined (e.g. `updraft connections add example_source_api
       --conn-uri https://shop.example.com`), that service is called. Otherwise the task serves
       the bundled `data/orders_sample.json` on a loopback port for the length of the call, so the
       example runs without any outside service.
    2. **transform** keeps the paid orders of the logical date and sums orders, units and revenue
       per country and product with pandas (`pip install 'updraft[pandas]'`).
    3. **load** writes the sums into `example_daily_sales` on the connection `example_etl_db`
       (any SQL connection, e.g. `postgresql://etl@db.example.com/warehouse`). Without that
       connection it uses the SQLite file `$UPDRAFT_HOME/example_etl.db`. The load deletes the
       rows of the logical date and inserts the new ones in one transaction, so re-running a day
       replaces that day and nothing else.
    """,
)
def example_etl_http_to_db():
    @task
    def extract(ds: str) -> dict[str, Any]:
        try:
            BaseHook.get_connection(SOURCE_CONN_ID)
        except ConnectionNotFound:
            print(f"connection {SOURCE_CONN_ID!r} is not defined: serving {SAMPLE_FILE.name} on loopback")
            with sample_api() as url:
                response = HttpHook("GET", http_conn_id=None, base_url=url, retry_limit=1).run(
                    ORDERS_ENDPOINT, data={"date": ds}
                )
        else:
            response = HttpHook("GET", http_conn_id=SOURCE_CONN_ID).run(ORDERS_ENDPOINT, data={"date": ds})
        payload = response.json()
        print(f"received {len(payload.get('orders', []))} orders for {ds}")
        return payload

    @task
    def transform(payload: dict[str, Any], ds: str) -> list[list[Any]]:
        try:
            import pandas as pd
        except ImportError:
            raise UpdraftFailException(  # no retry: installing is up to a person
                "the transform step of example_etl_http_to_db needs pandas: pip install 'updraft[pandas]'"
            ) from None
        orders = pd.json_normalize(
            payload.get("orders", []),
            record_path="items",
            meta=["order_id", "created_at", "country", "status"],
        )
        if orders.empty:
            return []
        orders["day"] = pd.to_datetime(orders["created_at"], utc=True).dt.strftime("%Y-%m-%d")
        paid = orders[(orders["status"] == "paid") & (orders["day"] == ds)].copy()
        paid["revenue"] = paid["qty"] * paid["unit_price"]
        sums = (
            paid.groupby(["country", "sku"], as_index=False)
            .agg(orders=("order_id", "nunique"), units=("qty", "sum"), revenue=("revenue", "sum"))
            .sort_values(["country", "sku"])
        )
        print(sums.to_string(index=False))
        return [
            [ds, row.country, row.sku, int(row.orders), int(row.units), round(float(row.revenue), 2)]
            for row in sums.itertuples(index=False)
        ]

    @task
    def load(rows: list[list[Any]], ds: str) -> int:
        hook = etl_db_hook()
        hook.run(CREATE_TABLE)
        marker = hook.placeholder
        insert = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join([marker] * len(COLUMNS))})"
        # One transaction: the day's old rows disappear only if all its new rows go in.
        conn = hook.get_conn()
        try:
            with closing(conn.cursor()) as cur:
                cur.execute(f"DELETE FROM {TABLE} WHERE sales_date = {marker}", (ds,))
                if rows:
                    cur.executemany(insert, [tuple(row) for row in rows])
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()
        print(f"loaded {len(rows)} rows for {ds} into {TABLE} ({hook.get_conn_id()})")
        return len(rows)

    load(transform(extract()))


example_etl_http_to_db()
