"""Branching and short-circuiting: only one path runs, and a check can stop the rest.

``choose_path`` follows the weekday or the weekend branch depending on the logical date;
``has_data`` short-circuits the publishing tasks when there is nothing to publish.
"""

from datetime import datetime

from updraft import DAG, Label, TriggerRule
from updraft.operators import BranchPythonOperator, EmptyOperator, PythonOperator, ShortCircuitOperator


def choose_path(logical_date, **_) -> str:
    return "weekend_report" if logical_date.weekday() >= 5 else "weekday_report"


def count_rows(params, **_) -> int:
    return int(params["rows"])


with DAG(
    dag_id="example_branching",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    params={"rows": 10},
    tags=["example"],
) as dag:
    start = EmptyOperator(task_id="start")
    branch = BranchPythonOperator(task_id="choose_path", python_callable=choose_path)
    weekday = PythonOperator(task_id="weekday_report", python_callable=lambda: "weekday")
    weekend = PythonOperator(task_id="weekend_report", python_callable=lambda: "weekend")
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

    has_data = ShortCircuitOperator(task_id="has_data", python_callable=count_rows)
    publish = PythonOperator(task_id="publish", python_callable=lambda: "published")
    notify = EmptyOperator(task_id="notify")

    start >> branch
    branch >> Label("Mon-Fri") >> weekday >> join
    branch >> Label("Sat-Sun") >> weekend >> join
    join >> has_data >> publish >> notify
