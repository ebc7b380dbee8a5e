"""Every bundled example DAG loads and ends its run in the states a user expects."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from updraft.core.dagbag import EXAMPLE_DAGS_FOLDER, load_dagbag
from updraft.core.db.engine import get_engine
from updraft.core.db.models import XCom
from updraft.core.runtime.dag_test import test_dag as run_dag
from updraft.sdk import serde


@pytest.fixture
def empty_folder(tmp_path: Path) -> str:
    folder = tmp_path / "no_user_dags"
    folder.mkdir()
    return str(folder)


def states(result) -> dict[str, str]:
    return {
        (r.task_id if r.map_index < 0 else f"{r.task_id}[{r.map_index}]"): r.state.value
        for r in result.records
    }


def xcom(db_url: str, dag_id: str, task_id: str, key: str = "return_value"):
    with get_engine(db_url).connect() as conn:
        text = conn.scalar(
            select(XCom.value).where(XCom.dag_id == dag_id, XCom.task_id == task_id, XCom.key == key)
        )
    return serde.decode(text)


def test_examples_load_without_import_errors():
    bag = load_dagbag([EXAMPLE_DAGS_FOLDER])
    assert bag.import_errors == {}
    assert set(bag.dags) == {
        "example_tutorial",
        "example_branching",
        "example_taskflow_mapping",
        "example_xcom_handoff",
        "example_etl_http_to_db",
        "example_nightly_data_quality",
        "example_slack_alert_on_failure",
    }


def test_tutorial(db_url: str, empty_folder: str):
    result = run_dag("example_tutorial", "2024-02-01", dags_folder=empty_folder, include_examples=True)
    assert result.state.value == "success"
    assert set(states(result).values()) == {"success"}
    report = xcom(db_url, "example_tutorial", "summarize")
    assert report["date"] == "2024-02-01" and report["disk"]


@pytest.mark.parametrize(
    ("day", "rows", "followed", "skipped"),
    [
        ("2024-01-03", 10, "weekday_report", {"weekend_report"}),  # a Wednesday
        ("2024-01-06", 10, "weekend_report", {"weekday_report"}),  # a Saturday
        ("2024-01-03", 0, "weekday_report", {"weekend_report", "publish", "notify"}),
    ],
)
def test_branching(db_url: str, empty_folder: str, day: str, rows: int, followed: str, skipped: set[str]):
    result = run_dag(
        "example_branching", day, {"rows": rows}, dags_folder=empty_folder, include_examples=True
    )
    got = states(result)
    assert result.state.value == "success"
    assert got[followed] == "success" and got["join"] == "success"
    assert {task for task, state in got.items() if state == "skipped"} == skipped


def test_taskflow_mapping(db_url: str, empty_folder: str):
    result = run_dag(
        "example_taskflow_mapping",
        "2024-02-01",
        {"batch": "abc"},
        dags_folder=empty_folder,
        include_examples=True,
    )
    got = states(result)
    assert result.state.value == "success"
    assert [k for k in got if k.startswith("per_file.count_words[")] == [
        f"per_file.count_words[{i}]" for i in range(4)
    ]
    # len("abc/part-N.txt") == 14, times the partial multiplier 2, for 4 files.
    assert xcom(db_url, "example_taskflow_mapping", "total") == {"files": 4, "words": 112}
    assert xcom(db_url, "example_taskflow_mapping", "announce") == "4 files, 112 words"


def test_xcom_handoff(db_url: str, empty_folder: str):
    result = run_dag("example_xcom_handoff", "2024-02-01", dags_folder=empty_folder, include_examples=True)
    assert result.state.value == "success"
    assert xcom(db_url, "example_xcom_handoff", "transform") == {
        "regions": ["eu", "us"],
        "sum": Decimal("14.75"),
    }
    assert xcom(db_url, "example_xcom_handoff", "shout") == "2 REGIONS, TOTAL 14.75"
