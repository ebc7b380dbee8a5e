"""Airflow 2 style: BranchPythonOperator, a BaseBranchOperator subclass, ShortCircuit, LatestOnly,
AirflowSkipException, and an EmailOperator that a short-circuit keeps from running."""

from datetime import datetime

from airflow.exceptions import AirflowSkipException
from airflow.models import DAG
from airflow.operators.branch import BaseBranchOperator
from airflow.operators.email import EmailOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.latest_only import LatestOnlyOperator
from airflow.operators.python import BranchPythonOperator, PythonOperator, ShortCircuitOperator
from airflow.utils.trigger_rule import TriggerRule


def pick_path(**context):
    return "small_batch" if context["params"]["rows"] < 100 else "big_batch"


class PickRegion(BaseBranchOperator):
    def choose_branch(self, context):
        return ["region_eu"]


def skip_me():
    raise AirflowSkipException("nothing to do today")


with DAG(
    dag_id="a2_branching",
    start_date=datetime(2024, 1, 1),
    schedule_interval="0 3 * * *",
    catchup=False,
    params={"rows": 10},
) as dag:
    branch = BranchPythonOperator(task_id="pick_path", python_callable=pick_path)
    small = EmptyOperator(task_id="small_batch")
    big = EmptyOperator(task_id="big_batch")
    after_big = EmptyOperator(task_id="after_big")
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    branch >> [small, big]
    big >> after_big
    [small, after_big] >> join

    region = PickRegion(task_id="pick_region")
    eu = EmptyOperator(task_id="region_eu")
    us = EmptyOperator(task_id="region_us")
    region >> [eu, us]

    gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: False)
    mail = EmailOperator(task_id="mail", to="nobody@example.com", subject="report {{ ds }}", html_content="x")
    gate >> mail

    latest = LatestOnlyOperator(task_id="latest_only")
    after_latest = EmptyOperator(task_id="after_latest")
    latest >> after_latest

    skipper = PythonOperator(task_id="skipper", python_callable=skip_me)
    after_skip = EmptyOperator(task_id="after_skip")
    after_skip_all_done = EmptyOperator(task_id="after_skip_all_done", trigger_rule="all_done")
    skipper >> [after_skip, after_skip_all_done]
