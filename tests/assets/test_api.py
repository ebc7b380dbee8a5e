"""The REST API shows an asset-scheduled DAG's schedule as Airflow 3 does ("Asset")."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api_routes.conftest import make_app
from updraft.core.runtime.dag_test import load_and_store, prepare_engine

DAGS = """
from datetime import datetime
from updraft import DAG, Asset
from updraft.operators import EmptyOperator
from updraft.sdk.timetables import AssetOrTimeSchedule, CronTriggerTimetable

a, b = Asset("s3://bucket/a"), Asset("s3://bucket/b")

with DAG("on_assets", start_date=datetime(2024, 1, 1), schedule=a & b):
    EmptyOperator(task_id="t")

with DAG("on_assets_or_time", start_date=datetime(2024, 1, 1),
         schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 2 * * *"), assets=a | b)):
    EmptyOperator(task_id="t")
"""


def test_dag_list_shows_the_asset_schedule(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "assets.py").write_text(textwrap.dedent(DAGS))
    bag, _ = load_and_store(prepare_engine(), None, str(folder), include_examples=False)
    assert not bag.import_errors, bag.import_errors
    client = TestClient(make_app())
    dags = {d["dag_id"]: d for d in client.get("/api/v2/dags").json()["dags"]}
    assert dags["on_assets"]["timetable_summary"] == "Asset"
    assert dags["on_assets"]["timetable_description"] == "Triggered by assets"
    assert dags["on_assets"]["next_dagrun_run_after"] is None
    assert dags["on_assets_or_time"]["timetable_summary"] == "Asset or 0 2 * * *"
    assert dags["on_assets_or_time"]["timetable_description"] == "Triggered by assets or At 02:00 every day"
