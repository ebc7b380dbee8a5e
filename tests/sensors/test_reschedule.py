"""Reschedule mode: one poke per attempt, ``up_for_reschedule`` in between, same try number."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.runs.conftest import RUN_ID, Runs
from updraft.core.db.models import TaskInstance, TaskReschedule
from updraft.core.runtime.local_run import RunProgress
from updraft.core.runtime.services import DbRuntimeServices
from updraft.core.state_machine import ti_transition_allowed
from updraft.sdk.runtime_services import RuntimeServices

PRELUDE = """
from updraft.operators import PythonSensor


def pokes(name):
    touch(name)
    with open(f"{TMP}/{name}") as f:
        return len(f.read().splitlines())
"""


def _reschedules(runs: Runs, dag_id: str, task_id: str) -> list[dict[str, Any]]:
    with runs.engine.connect() as conn:
        rows = (
            conn.execute(
                select(TaskReschedule)
                .where(TaskReschedule.dag_id == dag_id, TaskReschedule.task_id == task_id)
                .order_by(TaskReschedule.id)
            )
            .mappings()
            .all()
        )
    return [dict(row) for row in rows]


def _ti_row(runs: Runs, dag_id: str, task_id: str) -> dict[str, Any]:
    with runs.engine.connect() as conn:
        row = (
            conn.execute(
                select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id)
            )
            .mappings()
            .one()
        )
    return dict(row)


def test_a_rescheduled_sensor_keeps_its_try_and_records_each_poke(runs: Runs) -> None:
    seen: list[dict[str, Any]] = []

    def on_progress(progress: RunProgress) -> None:
        if progress.states.get("up_for_reschedule"):
            seen.append(_ti_row(runs, "resched", "wait"))

    result = runs.run(
        "resched",
        """
    with DAG("resched", start_date=START, schedule=None) as dag:
        def ready(ti, **_):
            touch("tries", str(ti.try_number))
            return pokes("pokes") >= 3

        wait = PythonSensor(
            task_id="wait", python_callable=ready, mode="reschedule", poke_interval=0.1, timeout=30,
            retries=2, on_execute_callback=lambda ctx: touch("executed"),
            on_success_callback=lambda ctx: touch("succeeded"),
            on_retry_callback=lambda ctx: touch("retried"),
        )
        after = PythonOperator(task_id="after", python_callable=ok)
        wait >> after
    """,
        prelude=PRELUDE,
        on_progress=on_progress,
    )
    assert result.state == "success"
    assert runs.states("resched") == {"wait": "success", "after": "success"}
    assert runs.scratch_text("tries") == "1\n1\n1\n"  # three attempts, all try 1
    # No callback marks a reschedule; on_execute_callback runs before every poke, as in Airflow.
    assert (runs.scratch_text("executed"), runs.scratch_text("succeeded")) == ("\n" * 3, "\n")
    assert runs.scratch_text("retried") == ""

    assert len({row["reschedule_at"] for row in seen}) == 2  # what the DB said between the pokes
    for row in seen:
        assert (row["state"], row["try_number"]) == ("up_for_reschedule", 1)
        assert row["reschedule_at"] is not None and row["reschedule_at"] >= row["end_date"]
    final = _ti_row(runs, "resched", "wait")
    assert (final["state"], final["try_number"], final["reschedule_at"]) == ("success", 1, None)

    reschedules = _reschedules(runs, "resched", "wait")
    assert [(r["run_id"], r["try_number"], r["map_index"]) for r in reschedules] == [(RUN_ID, 1, -1)] * 2
    for row in reschedules:
        assert row["reschedule_date"] - row["end_date"] >= timedelta(seconds=0.09)
        assert row["duration"] >= 0
    # The next poke waited for the reschedule date.
    assert final["start_date"] >= reschedules[-1]["reschedule_date"]
    # The try is finished only once: one history row.
    assert [(h["try_number"], h["state"]) for h in runs.history("resched", "wait")] == [(1, "success")]


def test_reschedule_timeout_counts_from_the_first_poke(runs: Runs) -> None:
    result = runs.run(
        "resched_timeout",
        """
    with DAG("resched_timeout", start_date=START, schedule=None) as dag:
        PythonSensor(task_id="wait", python_callable=lambda: pokes("pokes") > 1000, mode="reschedule",
                     poke_interval=0.05, timeout=0.3, retries=2, retry_delay=0)
    """,
        prelude=PRELUDE,
    )
    assert result.state == "failed"
    final = _ti_row(runs, "resched_timeout", "wait")
    assert (final["state"], final["try_number"]) == ("failed", 1)  # a sensor timeout is not retried
    reschedules = _reschedules(runs, "resched_timeout", "wait")
    assert len(reschedules) >= 2  # each attempt alone is far shorter than the timeout
    assert final["end_date"] - reschedules[0]["start_date"] > timedelta(seconds=0.3)
    assert len(runs.scratch_text("pokes").splitlines()) == len(reschedules) + 1
    (history,) = runs.history("resched_timeout", "wait")
    assert history["error"].startswith("UpdraftSensorTimeout: sensor 'wait' timed out")


def test_soft_fail_in_reschedule_mode_skips(runs: Runs) -> None:
    runs.run(
        "resched_soft",
        """
    with DAG("resched_soft", start_date=START, schedule=None) as dag:
        PythonSensor(task_id="wait", python_callable=lambda: False, mode="reschedule",
                     poke_interval=0.05, timeout=0.15, soft_fail=True)
    """,
        prelude=PRELUDE,
    )
    assert runs.states("resched_soft") == {"wait": "skipped"}


def test_first_reschedule_start_is_per_try(runs: Runs) -> None:
    runs.run(
        "per_try",
        """
    with DAG("per_try", start_date=START, schedule=None) as dag:
        PythonSensor(task_id="wait", python_callable=lambda: pokes("pokes") >= 2, mode="reschedule",
                     poke_interval=0.05)
    """,
        prelude=PRELUDE,
    )
    services = DbRuntimeServices(runs.engine)
    assert isinstance(services, RuntimeServices)
    (row,) = _reschedules(runs, "per_try", "wait")
    assert services.first_reschedule_start("per_try", RUN_ID, "wait", -1, 1) == row["start_date"]
    assert services.first_reschedule_start("per_try", RUN_ID, "wait", -1, 2) is None
    assert services.first_reschedule_start("per_try", RUN_ID, "other", -1, 1) is None


def test_reschedule_transitions_are_allowed() -> None:
    assert ti_transition_allowed("running", "up_for_reschedule")
    assert ti_transition_allowed("up_for_reschedule", "running")
