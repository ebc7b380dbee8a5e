"""Imports a name that airflow.operators.bash never had."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import NoSuchName

with DAG("bad_no_such_name", start_date=datetime(2024, 1, 1), schedule=None):
    NoSuchName(task_id="x")
