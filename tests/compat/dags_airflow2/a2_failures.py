"""Airflow 2 style: AirflowFailException ends a task at once despite retries; trigger rules react."""

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowFailException
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.utils.trigger_rule import TriggerRule

SCRATCH = os.environ.get("COMPAT_SCRATCH", "/tmp")


def refuse():
    with open(os.path.join(SCRATCH, "a2_failures_tries.txt"), "a") as handle:
        handle.write("try\n")
    raise AirflowFailException("the input is corrupt: retrying will not help")


with DAG(
    "a2_failures",
    start_date=datetime(2024, 1, 1),
    schedule_interval=None,
    default_args={"retries": 3, "retry_delay": timedelta(seconds=1)},
) as dag:
    ok = EmptyOperator(task_id="ok")
    bad = PythonOperator(task_id="refuse", python_callable=refuse)
    downstream = EmptyOperator(task_id="downstream")
    on_failure = BashOperator(
        task_id="on_failure",
        bash_command=f"echo cleanup > {SCRATCH}/a2_failures_cleanup.txt",
        trigger_rule=TriggerRule.ONE_FAILED,
    )
    always = EmptyOperator(task_id="always", trigger_rule=TriggerRule.ALL_DONE)
    on_success_only = EmptyOperator(task_id="on_success_only", trigger_rule=TriggerRule.ONE_SUCCESS)
    never = EmptyOperator(task_id="never", trigger_rule=TriggerRule.ALL_SUCCESS)
    [ok, bad] >> downstream
    [ok, bad] >> on_failure
    [ok, bad] >> always
    [ok, bad] >> on_success_only
    on_failure >> never
    bad >> never
