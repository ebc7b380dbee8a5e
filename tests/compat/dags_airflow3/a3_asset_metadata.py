"""A TaskFlow task that attaches extra data to its asset event with ``yield Metadata(...)``."""

import pendulum
from airflow.sdk import DAG, Asset, Metadata, task

orders = Asset("s3://warehouse/orders.parquet")
audit = Asset("s3://warehouse/audit.log")

with DAG("a3_asset_metadata", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule=None):

    @task(outlets=[orders])
    def publish_orders():
        yield Metadata(orders, {"rows": 42, "source": "erp"})
        yield Metadata(audit, {"ignored": True})  # not an outlet of this task: no event
        return "published"

    publish_orders()
