"""Airflow 2 style scheduling: timetable=CronTriggerTimetable, days_ago(), a timedelta interval."""

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.timetables.trigger import CronTriggerTimetable
from airflow.utils.dates import days_ago

with DAG(
    "a2_weekday_mornings",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    timetable=CronTriggerTimetable("30 6 * * 1-5", timezone="UTC"),
    catchup=False,
) as weekday_mornings:
    BashOperator(task_id="show", bash_command="echo {{ ts }} {{ logical_date.strftime('%A') }}")

with DAG("a2_every_six_hours", start_date=days_ago(2), schedule_interval=timedelta(hours=6)) as six_hours:
    BashOperator(task_id="show", bash_command="echo {{ ts }}")
