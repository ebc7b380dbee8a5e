"""Airflow 2 style: one scheduled day (start_date == end_date, catchup=True) whose template dates are
known: logical date 2024-03-10 on a @daily schedule_interval."""

import json
import os
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

SCRATCH = os.environ.get("COMPAT_SCRATCH", "/tmp")
NAMES = ("ds", "ds_nodash", "next_ds", "next_ds_nodash", "prev_ds", "prev_ds_nodash")
NAMES += ("tomorrow_ds", "tomorrow_ds_nodash", "yesterday_ds", "yesterday_ds_nodash")


def record(**context):
    seen = {name: context.get(name) for name in NAMES}
    seen["execution_date"] = context["execution_date"].isoformat()
    with open(os.path.join(SCRATCH, "a2_scheduled_dates.json"), "w") as handle:
        json.dump(seen, handle)


with DAG(
    "a2_scheduled_dates",
    start_date=datetime(2024, 3, 10),
    end_date=datetime(2024, 3, 10),
    schedule_interval="@daily",
    catchup=True,
) as dag:
    PythonOperator(task_id="record", python_callable=record, provide_context=True)
    BashOperator(
        task_id="render",
        bash_command="echo '{{ prev_ds }} {{ ds }} {{ next_ds }} {{ next_ds_nodash }} {{ prev_ds_nodash }}'",
    )
