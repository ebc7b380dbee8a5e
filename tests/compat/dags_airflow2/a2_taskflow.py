"""Airflow 2 style TaskFlow (airflow.decorators) and the date/weekday branch operators."""

from datetime import datetime

from airflow.decorators import dag, task, task_group
from airflow.operators.datetime import BranchDateTimeOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.weekday import BranchDayOfWeekOperator
from airflow.utils.dates import days_ago


@dag(schedule_interval="@daily", start_date=days_ago(1), catchup=False, default_args={"owner": "taskflow"})
def a2_taskflow():
    @task(multiple_outputs=True)
    def split():
        return {"head": [1, 2], "tail": [10, 20, 30]}

    @task
    def double(x):
        return 2 * x

    @task_group
    def totals(values):
        @task
        def add(values):
            return sum(values)

        return add(values)

    parts = split()
    totals(double.expand(x=parts["tail"]))

    by_day = BranchDayOfWeekOperator(
        task_id="by_day",
        week_day="Wednesday",
        use_task_logical_date=True,
        follow_task_ids_if_true="wednesday",
        follow_task_ids_if_false="other_day",
    )
    by_date = BranchDateTimeOperator(
        task_id="by_date",
        target_lower=datetime(2024, 3, 1),
        target_upper=datetime(2024, 3, 31),
        use_task_logical_date=True,
        follow_task_ids_if_true="in_march",
        follow_task_ids_if_false="not_in_march",
    )
    by_day >> [EmptyOperator(task_id="wednesday"), EmptyOperator(task_id="other_day")]
    by_date >> [EmptyOperator(task_id="in_march"), EmptyOperator(task_id="not_in_march")]


a2_taskflow()
