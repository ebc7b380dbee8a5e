"""Airflow 3 style: params with defaults and validation, overridden by the trigger conf."""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, task

with DAG(
    "a3_params",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    params={
        "city": Param("oslo", type="string", enum=["oslo", "lima", "pune"]),
        "days": Param(7, type="integer", minimum=1, maximum=31),
        "verbose": False,
    },
) as dag:
    greet = BashOperator(task_id="greet", bash_command="echo {{ params.city }}-{{ params.days }}")

    @task
    def seen(params=None, dag_run=None):
        return {"params": dict(params), "conf": dict(dag_run.conf or {})}

    greet >> seen()
