"""Airflow 2 idioms found in old DAG folders: XComArg(task), sla_miss_callback, plugins, venv guards."""

import pendulum
from airflow.models.dag import DAG
from airflow.models.xcom_arg import XComArg
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator, is_venv_installed
from airflow.plugins_manager import AirflowPlugin


class NothingPlugin(AirflowPlugin):
    name = "nothing"


def report_sla(*args):
    raise AssertionError("never called: Updraft has no SLAs")


with DAG(
    "old_idioms",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    sla_miss_callback=report_sla,
):
    push = BashOperator(task_id="push", bash_command="echo 41")
    PythonOperator(task_id="pull", python_callable=lambda value: int(value) + 1, op_args=[XComArg(push)])
    if is_venv_installed():
        raise AssertionError("Updraft runs no virtualenv tasks, so the guard must be False")
