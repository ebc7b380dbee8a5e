"""ExternalTaskSensor against another DAG's recorded run, at the same (or a shifted) logical date."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.runs.conftest import LOGICAL_DATE, Runs
from updraft.operators import ExternalTaskSensor

DAGS = """
from updraft.operators import ExternalTaskSensor
from updraft import TaskGroup

with DAG("upstream", start_date=START, schedule=None) as upstream:
    a = PythonOperator(task_id="a", python_callable=ok)
    b = PythonOperator(task_id="b", python_callable=fail)
    with TaskGroup("g") as g:
        PythonOperator(task_id="one", python_callable=ok) >> PythonOperator(task_id="two", python_callable=ok)
    with TaskGroup("bad") as bad:
        PythonOperator(task_id="fine", python_callable=ok)
        PythonOperator(task_id="broken", python_callable=fail)

with DAG("downstream", start_date=START, schedule=None,
         default_args={"poke_interval": 0.05, "timeout": 10, "external_dag_id": "upstream"}) as downstream:
    ExternalTaskSensor(task_id="wait_a", external_task_id="a")
    ExternalTaskSensor(task_id="wait_many", external_task_ids=["a", "g.one"])
    ExternalTaskSensor(task_id="wait_b", external_task_id="b", failed_states=["failed", "upstream_failed"])
    ExternalTaskSensor(task_id="soft_b", external_task_id="b", failed_states=["failed"], soft_fail=True)
    ExternalTaskSensor(task_id="skip_b", external_task_id="b", skipped_states=["failed"])
    ExternalTaskSensor(task_id="missing", external_task_id="a", execution_delta=timedelta(days=1),
                       timeout=0.2)
    ExternalTaskSensor(task_id="by_fn", external_task_id="a",
                       execution_date_fn=lambda dt, **_: [dt, dt - timedelta(days=1)], timeout=0.2)
    ExternalTaskSensor(task_id="wait_group", external_task_group_id="g")
    ExternalTaskSensor(task_id="bad_group", external_task_group_id="bad", failed_states=["failed"])
    ExternalTaskSensor(task_id="wait_dag_failed", allowed_states=["failed"])
    ExternalTaskSensor(task_id="dag_failed", failed_states=["failed"])
    ExternalTaskSensor(task_id="no_such_task", external_task_id="nope", check_existence=True)
    ExternalTaskSensor(task_id="no_such_dag", external_dag_id="ghost", check_existence=True)
"""


def test_external_task_sensor_reads_the_other_dags_run(runs: Runs) -> None:
    runs.write(DAGS)
    assert runs.run("upstream").state == "failed"
    runs.run("downstream")
    states = runs.states("downstream")
    assert states == {
        "wait_a": "success",
        "wait_many": "success",
        "wait_b": "failed",
        "soft_b": "skipped",
        "skip_b": "skipped",
        "missing": "failed",
        "by_fn": "failed",
        "wait_group": "success",
        "bad_group": "failed",
        "wait_dag_failed": "success",
        "dag_failed": "failed",
        "no_such_task": "failed",
        "no_such_dag": "failed",
    }

    def error(task_id: str) -> str:
        return str(runs.history("downstream", task_id)[-1]["error"])

    assert error("wait_b") == (
        "ExternalTaskFailedError: external task(s) ['b'] of DAG 'upstream' reached one of the failed "
        f"states ['failed', 'upstream_failed'] on {LOGICAL_DATE}"
    )
    assert error("bad_group").startswith("ExternalTaskGroupFailedError: external TaskGroup 'bad'")
    assert error("dag_failed").startswith("ExternalDagFailedError: external DAG 'upstream'")
    assert error("missing").startswith("UpdraftSensorTimeout: sensor 'missing' timed out")
    assert error("no_such_task") == (
        "ExternalTaskNotFoundError: sensor 'no_such_task': the external DAG 'upstream' has no task 'nope'"
    )
    assert error("no_such_dag").startswith("ExternalDagNotFoundError: sensor 'no_such_dag'")


def test_a_group_waits_until_every_task_of_it_is_done(runs: Runs) -> None:
    runs.run(
        "partial",
        """
    from updraft import TaskGroup

    with DAG("partial", start_date=START, schedule=None) as dag:
        with TaskGroup("g") as g:
            one = PythonOperator(task_id="one", python_callable=ok)
            two = PythonOperator(task_id="two", python_callable=fail)
            three = PythonOperator(task_id="three", python_callable=ok)
            two >> three
    """,
    )
    runs.run(
        "waiter",
        """
    from updraft.operators import ExternalTaskSensor

    with DAG("waiter", start_date=START, schedule=None) as dag:
        ExternalTaskSensor(task_id="wait", external_dag_id="partial", external_task_group_id="g",
                           poke_interval=0.05, timeout=0.2)
        ExternalTaskSensor(task_id="done", external_dag_id="partial", external_task_group_id="g",
                           allowed_states=["success", "failed", "upstream_failed"], timeout=2)
    """,
    )
    # one succeeded, two failed, three is upstream_failed: not all in "success", so it times out.
    assert runs.states("waiter") == {"wait": "failed", "done": "success"}


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"external_task_id": "a", "external_task_ids": ["b"]}, "external_task_id or external_task_ids"),
        ({"external_task_id": "a", "external_task_group_id": "g"}, "or external_task_group_id, not both"),
        ({"allowed_states": ["success"], "failed_states": ["success"]}, "more than once"),
        ({"external_task_id": "a", "allowed_states": ["bogus"]}, "'bogus' is not task instance state"),
        ({"allowed_states": ["skipped"]}, "'skipped' is not DAG run state"),
        ({"execution_delta": timedelta(1), "execution_date_fn": lambda d: d}, "not both"),
    ],
)
def test_bad_arguments_name_the_task(kwargs: dict[str, object], text: str) -> None:
    with pytest.raises(ValueError, match=text) as info:
        ExternalTaskSensor(task_id="ext", external_dag_id="up", **kwargs)  # type: ignore[arg-type]
    assert "'ext'" in str(info.value)


def test_dates_follow_delta_and_function() -> None:
    day = datetime(2024, 3, 5, tzinfo=timezone.utc)
    shifted = ExternalTaskSensor(task_id="s", external_dag_id="up", execution_delta=timedelta(hours=2))
    assert shifted.dates({"logical_date": day}) == [day - timedelta(hours=2)]
    by_fn = ExternalTaskSensor(
        task_id="f", external_dag_id="up", execution_date_fn=lambda dt, ds: [dt.replace(hour=1)]
    )
    assert by_fn.dates({"logical_date": day, "ds": "2024-03-05"}) == [day.replace(hour=1)]
    naive = ExternalTaskSensor(
        task_id="n", external_dag_id="up", execution_date_fn=lambda dt: datetime(2024, 1, 1)
    )
    assert naive.dates({"logical_date": day}) == [datetime(2024, 1, 1, tzinfo=timezone.utc)]
