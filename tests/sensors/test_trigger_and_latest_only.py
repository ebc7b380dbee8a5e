"""TriggerDagRunOperator (a queued run of another stored DAG) and LatestOnlyOperator."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import update

from tests.runs.conftest import Runs
from updraft.core.db.models import DagRun
from updraft.core.runtime import dag_test
from updraft.core.runtime.task_instance import RunInfo
from updraft.operators import TriggerDagRunOperator

TARGET = """
from updraft.operators import TriggerDagRunOperator

with DAG("target", start_date=START, schedule=None,
         params={"n": Param(1, type="integer"), "label": Param("x", type="string")}) as target:
    PythonOperator(task_id="work", python_callable=ok)
"""


def test_trigger_creates_a_queued_run_with_conf_and_pushes_its_id(runs: Runs) -> None:
    runs.run(
        "trigger",
        """
    with DAG("trigger", start_date=START, schedule=None) as dag:
        TriggerDagRunOperator(task_id="go", trigger_dag_id="{{ 'tar' + 'get' }}",
                              conf={"n": 5, "label": "{{ ds }}"})
    """,
        prelude=TARGET,
    )
    assert runs.states("trigger") == {"go": "success"}
    (created,) = runs.dag_runs("target")
    assert created["state"] == "queued"
    assert created["run_type"] == "manual"
    assert created["triggered_by"] == "operator"
    assert created["conf"] == {"n": 5, "label": "2024-03-05"}
    assert created["run_id"].startswith("manual__")
    xcoms = runs.xcoms("trigger")
    assert xcoms[("go", -1, "trigger_run_id")] == created["run_id"]
    assert xcoms[("go", -1, "trigger_dag_id")] == "target"
    assert runs.states("target", created["run_id"]) == {"work": None}  # task instances created


def test_a_conf_that_breaks_the_targets_params_fails_the_task(runs: Runs) -> None:
    runs.run(
        "trigger",
        """
    with DAG("trigger", start_date=START, schedule=None) as dag:
        TriggerDagRunOperator(task_id="go", trigger_dag_id="target", conf={"n": "many"}, retries=2)
    """,
        prelude=TARGET,
    )
    ti = runs.tis("trigger")["go"]
    assert (ti.state, ti.try_number) == ("failed", 1)  # not retried
    error = runs.history("trigger", "go")[0]["error"]
    assert "conf does not match the params of DAG 'target'" in error
    assert "'n'" in error
    assert runs.dag_runs("target") == []


def test_an_existing_run_fails_skips_or_is_reset(runs: Runs) -> None:
    body = """
    with DAG("trigger", start_date=START, schedule=None) as dag:
        TriggerDagRunOperator(task_id="go", trigger_dag_id="target", trigger_run_id="fixed",
                              logical_date="2024-01-01T00:00:00+00:00", {extra})
    """
    runs.run("trigger", body.format(extra=""), prelude=TARGET)
    assert runs.states("trigger") == {"go": "success"}
    with runs.engine.begin() as conn:
        conn.execute(update(DagRun).where(DagRun.dag_id == "target").values(state="success"))

    runs.run("trigger", body.format(extra=""), prelude=TARGET)
    assert runs.states("trigger") == {"go": "failed"}
    assert "already has a run 'fixed'" in runs.history("trigger", "go")[-1]["error"]

    runs.run("trigger", body.format(extra="skip_when_already_exists=True"), prelude=TARGET)
    assert runs.states("trigger") == {"go": "skipped"}

    runs.run("trigger", body.format(extra="reset_dag_run=True"), prelude=TARGET)
    assert runs.states("trigger") == {"go": "success"}
    (run,) = runs.dag_runs("target")
    assert (run["run_id"], run["state"], run["end_date"]) == ("fixed", "queued", None)


class _FakeScheduler(threading.Thread):
    """Plays the scheduler while a run waits: ends the target DAG's queued run in ``state``."""

    def __init__(self, runs: Runs, state: str) -> None:
        super().__init__(daemon=True)
        self.runs, self.state, self.stop = runs, state, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.runs.engine.begin() as conn:
                    ended = conn.execute(
                        update(DagRun)
                        .where(DagRun.dag_id == "target", DagRun.state == "queued")
                        .values(state=self.state)
                    ).rowcount
                if ended:
                    return
            except Exception:  # noqa: BLE001 - the schema may not exist yet: try again
                pass
            time.sleep(0.02)


@pytest.mark.parametrize("outcome", ["success", "failed"])
def test_wait_for_completion_follows_the_triggered_run(runs: Runs, outcome: str) -> None:
    scheduler = _FakeScheduler(runs, outcome)
    scheduler.start()
    try:
        runs.run(
            "trigger",
            """
        with DAG("trigger", start_date=START, schedule=None) as dag:
            TriggerDagRunOperator(task_id="go", trigger_dag_id="target", wait_for_completion=True,
                                  poke_interval=0.05, trigger_run_id="{{ run_id }}__child", retries=1,
                                  execution_timeout=20)
        """,
            prelude=TARGET,
        )
    finally:
        scheduler.stop.set()
        scheduler.join(5)
    ti = runs.tis("trigger")["go"]
    assert (ti.state, ti.try_number) == (outcome, 1)  # a failed target run is not retried
    (run,) = runs.dag_runs("target")
    assert run["run_id"] == "manual__2024-03-05T06:07:08+00:00__child"
    if outcome == "failed":
        assert runs.history("trigger", "go")[0]["error"] == (
            "UpdraftFailException: task 'go': the triggered run "
            "'manual__2024-03-05T06:07:08+00:00__child' of DAG 'target' ended failed"
        )


def test_trigger_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="'t': allowed_states has 'done'"):
        TriggerDagRunOperator(task_id="t", trigger_dag_id="x", allowed_states=["done"])
    with pytest.raises(TypeError, match="'t': logical_date must be"):
        TriggerDagRunOperator(task_id="t", trigger_dag_id="x", logical_date=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'t': poke_interval"):
        TriggerDagRunOperator(task_id="t", trigger_dag_id="x", poke_interval=-1)


# -- LatestOnlyOperator ------------------------------------------------------------------------

LATEST_ONLY = """
from updraft.operators import LatestOnlyOperator

with DAG("latest", start_date=START, schedule="@daily", catchup=True) as dag:
    latest = LatestOnlyOperator(task_id="latest_only")
    work = PythonOperator(task_id="work", python_callable=ok)
    always = PythonOperator(task_id="always", python_callable=ok, trigger_rule="all_done")
    latest >> work >> always  # only direct downstream tasks are skipped; "always" still runs
"""


def _as_scheduled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``dags test`` create a scheduled run (covering the instant of its logical date)."""
    original = dag_test.make_run_info

    def scheduled(dag: Any, logical_date: datetime, conf_value: Any) -> RunInfo:
        info = original(dag, logical_date, conf_value)
        return dataclasses.replace(
            info,
            run_type="scheduled",
            run_id=f"scheduled__{logical_date.isoformat()}",
            data_interval_start=logical_date,
            data_interval_end=logical_date,
        )

    monkeypatch.setattr(dag_test, "make_run_info", scheduled)


def test_latest_only_skips_downstream_of_an_old_scheduled_run(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_scheduled(monkeypatch)
    result = runs.run("latest", LATEST_ONLY, logical_date="2024-01-02T00:00:00+00:00")
    assert runs.states("latest", result.run_id) == {
        "latest_only": "success",
        "work": "skipped",
        "always": "success",
    }


def test_latest_only_lets_the_latest_scheduled_run_through(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_scheduled(monkeypatch)
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if datetime.now(timezone.utc) - today < timedelta(seconds=5):
        today -= timedelta(days=1)  # right at midnight the next interval is already the latest
    result = runs.run("latest", LATEST_ONLY, logical_date=today.isoformat())
    assert runs.states("latest", result.run_id) == {
        "latest_only": "success",
        "work": "success",
        "always": "success",
    }


def test_latest_only_never_skips_a_manual_run(runs: Runs) -> None:
    result = runs.run("latest", LATEST_ONLY, logical_date="2024-01-02T00:00:00+00:00")
    assert result.run_id.startswith("manual__")
    assert runs.states("latest", result.run_id) == {
        "latest_only": "success",
        "work": "success",
        "always": "success",
    }
