"""Uses SubDagOperator, gone in Airflow 3."""

from datetime import datetime

from airflow import DAG
from airflow.operators.subdag import SubDagOperator

with DAG("bad_subdag", start_date=datetime(2024, 1, 1), schedule_interval=None) as parent:
    SubDagOperator(task_id="child", subdag=DAG("bad_subdag.child", start_date=datetime(2024, 1, 1)))
