"""Airflow 2 style: TriggerDagRunOperator starts another DAG with a templated conf."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator

with DAG("a2_trigger_target", start_date=datetime(2024, 1, 1), schedule_interval=None) as target:
    EmptyOperator(task_id="receive")

with DAG("a2_trigger", start_date=datetime(2024, 1, 1), schedule_interval=None) as dag:
    TriggerDagRunOperator(
        task_id="kick",
        trigger_dag_id="a2_trigger_target",
        trigger_run_id="from_a2_trigger__{{ ds }}",
        conf={"origin": "{{ dag.dag_id }}", "day": "{{ ds }}"},
    )
