"""Airflow 2 style: classic operators, templates with the Airflow 2 date names, a custom operator."""

import json
import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models import BaseOperator
from airflow.operators.bash import BashOperator
from airflow.operators.dummy import DummyOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.utils.decorators import apply_defaults

SCRATCH = os.environ.get("COMPAT_SCRATCH", "/tmp")

DATE_NAMES = (
    "ds",
    "ds_nodash",
    "ts",
    "next_ds",
    "next_ds_nodash",
    "prev_ds",
    "prev_ds_nodash",
    "tomorrow_ds",
    "tomorrow_ds_nodash",
    "yesterday_ds",
    "yesterday_ds_nodash",
)


def write_proof(name, value):
    with open(os.path.join(SCRATCH, f"{name}.json"), "w") as handle:
        json.dump(value, handle, default=str)


class StampOperator(BaseOperator):
    """A custom operator in the Airflow 2 way: apply_defaults, super(Cls, self), template_fields."""

    template_fields = ("stamp", "target")
    ui_color = "#ccddee"

    @apply_defaults
    def __init__(self, stamp, target, *args, **kwargs):
        super(StampOperator, self).__init__(*args, **kwargs)  # noqa: UP008  (the Airflow 2 idiom)
        self.stamp = stamp
        self.target = target

    def execute(self, context):
        write_proof(self.target, {"stamp": self.stamp, "owner": self.owner, "retries": self.retries})
        return self.stamp


def record_context(ds, **kwargs):
    """provide_context=True: the context arrives as keyword arguments."""
    seen = {name: kwargs.get(name) for name in DATE_NAMES if name != "ds"}
    seen["ds"] = ds
    seen["execution_date"] = kwargs["execution_date"].isoformat()
    seen["logical_date"] = kwargs["logical_date"].isoformat()
    write_proof("a2_templates_context", seen)
    return seen["tomorrow_ds"]


default_args = {
    "owner": "data-team",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "email_on_failure": False,
    "depends_on_past": False,
    "this_key_means_nothing": "ignored",  # unknown keys are ignored, as in Airflow
}

with DAG(
    "a2_templates",
    default_args=default_args,
    start_date=datetime(2024, 1, 1),
    schedule_interval="@daily",
    catchup=False,
    tags=["airflow2"],
) as dag:
    begin = DummyOperator(task_id="begin")
    echo = BashOperator(
        task_id="echo_dates",
        bash_command=(
            'echo \'{{ ds }} {{ ds_nodash }} {{ execution_date.strftime("%Y/%m/%d") }} '
            "{{ tomorrow_ds }} {{ tomorrow_ds_nodash }} {{ yesterday_ds }} {{ yesterday_ds_nodash }} "
            "{{ macros.ds_add(ds, 5) }}' > " + SCRATCH + "/a2_templates_bash.txt"
        ),
    )
    context_task = PythonOperator(
        task_id="record_context", python_callable=record_context, provide_context=True
    )
    stamp = StampOperator(
        task_id="stamp",
        stamp="{{ macros.ds_add(ds, -3) }}|{{ params.region }}|{{ task.task_id }}",
        target="a2_templates_stamp",
        params={"region": "eu"},
        retries=0,
    )
    end = EmptyOperator(task_id="end")
    begin >> [echo, context_task] >> stamp >> end
