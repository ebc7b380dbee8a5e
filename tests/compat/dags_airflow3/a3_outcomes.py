"""Airflow 3 style: @task.branch, @task.short_circuit, @task.sensor, a BaseSensorOperator subclass,
a BaseNotifier on failure, AirflowSkipException / AirflowFailException, and trigger rules."""

import json
import os
from datetime import datetime, timedelta

from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import BaseNotifier, BaseSensorOperator, PokeReturnValue, TriggerRule, dag, task

SCRATCH = os.environ.get("COMPAT_SCRATCH", "/tmp")


class FileNotifier(BaseNotifier):
    """Leaves a note for the test: which task failed, with a templated message."""

    template_fields = ("message",)

    def __init__(self, message):
        super().__init__()
        self.message = message

    def notify(self, context):
        note = {"task": context["ti"].task_id, "message": self.message, "dag": context["dag"].dag_id}
        with open(os.path.join(SCRATCH, f"notified_{context['ti'].task_id}.json"), "w") as handle:
            json.dump(note, handle)


class EvenSecondSensor(BaseSensorOperator):
    """Done at once; returns a value for XCom through PokeReturnValue."""

    def poke(self, context):
        return PokeReturnValue(is_done=True, xcom_value="ready")


@dag(
    schedule=None,
    start_date=datetime(2024, 1, 1),
    default_args={"retries": 2, "retry_delay": timedelta(seconds=1)},
)
def a3_outcomes():
    @task.branch
    def choose(**context):
        return "fast_lane" if context["params"].get("hurry", True) else "slow_lane"

    fast = EmptyOperator(task_id="fast_lane")
    slow = EmptyOperator(task_id="slow_lane")
    after_slow = EmptyOperator(task_id="after_slow")
    merge = EmptyOperator(task_id="merge", trigger_rule=TriggerRule.NONE_FAILED)
    choose() >> [fast, slow]
    slow >> after_slow
    [fast, after_slow] >> merge

    @task.short_circuit
    def worth_it():
        return 0

    @task
    def expensive():
        return "should not run"

    worth_it() >> expensive()

    @task.sensor(poke_interval=0.1, timeout=30, mode="poke")
    def wait_for_token() -> PokeReturnValue:
        return PokeReturnValue(is_done=True, xcom_value={"token": "t-42"})

    @task
    def use_token(found):
        return found["token"].upper()

    use_token(wait_for_token())

    @task.sensor(poke_interval=0.1, timeout=1, soft_fail=True)
    def never_ready():
        return False

    never_ready()

    EvenSecondSensor(task_id="custom_sensor", poke_interval=0.1)

    @task
    def not_today():
        raise AirflowSkipException("holiday")

    @task(on_failure_callback=FileNotifier(message="{{ dag.dag_id }} broke on {{ ds }}"))
    def broken():
        with open(os.path.join(SCRATCH, "a3_broken_tries.txt"), "a") as handle:
            handle.write("try\n")
        raise AirflowFailException("bad input")

    cleanup = EmptyOperator(task_id="cleanup", trigger_rule=TriggerRule.ONE_FAILED)
    report = EmptyOperator(task_id="report", trigger_rule=TriggerRule.ALL_DONE)
    publish = EmptyOperator(task_id="publish")
    announce = EmptyOperator(task_id="announce")
    skipped, failed = not_today(), broken()
    [skipped, failed] >> cleanup
    [skipped, failed] >> report
    # One upstream each: with a skipped and a failed upstream together, Airflow's all_success gives
    # skipped or upstream_failed depending on which finishes first.
    failed >> publish
    skipped >> announce


a3_outcomes()
