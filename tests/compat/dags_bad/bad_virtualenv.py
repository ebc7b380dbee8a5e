"""Runs a callable in a fresh virtualenv, which Updraft does not do."""

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonVirtualenvOperator


def in_venv():
    import requests  # noqa: F401

    return "done"


with DAG("bad_virtualenv", start_date=datetime(2024, 1, 1), schedule=None):
    PythonVirtualenvOperator(task_id="venv", python_callable=in_venv, requirements=["requests==2.31.0"])
