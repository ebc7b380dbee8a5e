"""Asks for Airflow 3.3's task state store, which Updraft lacks."""

from datetime import datetime

from airflow.sdk import DAG, task

with DAG("bad_task_state_store", start_date=datetime(2024, 1, 1), schedule=None):

    @task
    def resume_job(task_state_store=None):
        return task_state_store.get("job_id")

    resume_job()
