"""Airflow 3 style: schedule= as cron, preset, timedelta and None; a DAG without a schedule argument;
sensors from the standard provider paths."""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.sensors.bash import BashSensor
from airflow.providers.standard.sensors.date_time import DateTimeSensor
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.providers.standard.sensors.weekday import DayOfWeekSensor
from airflow.sdk import DAG

START = datetime(2024, 1, 1)
FAST = {"poke_interval": 0.1, "timeout": 30}

with DAG("a3_cron", schedule="15 4 * * *", start_date=START) as cron_dag:
    EmptyOperator(task_id="noop")

with DAG("a3_preset", schedule="@hourly", start_date=START) as preset_dag:
    EmptyOperator(task_id="noop")

with DAG("a3_delta", schedule=timedelta(hours=2), start_date=START) as delta_dag:
    EmptyOperator(task_id="noop")

with DAG("a3_none", schedule=None, start_date=START) as none_dag:
    EmptyOperator(task_id="noop")

with DAG("a3_no_schedule_argument", start_date=START) as default_dag:
    EmptyOperator(task_id="noop")

with DAG("a3_sensors", schedule=None, start_date=START) as sensors_dag:
    done = EmptyOperator(task_id="done")
    [
        PythonSensor(task_id="python", python_callable=lambda: True, **FAST),
        BashSensor(task_id="bash", bash_command="true", **FAST),
        FileSensor(task_id="file", filepath=__file__, **FAST),
        TimeDeltaSensor(task_id="delta", delta=timedelta(0), **FAST),
        DateTimeSensor(task_id="datetime", target_time="2000-01-01T00:00:00+00:00", **FAST),
        DayOfWeekSensor(task_id="weekday", week_day="Wednesday", use_task_logical_date=True, **FAST),
    ] >> done
