"""Airflow 3 style: Connection.get and Variable.get of the Task SDK inside tasks."""

from datetime import datetime

from airflow.exceptions import AirflowNotFoundException
from airflow.sdk import DAG, Connection, Variable, task

with DAG("a3_lookups", schedule=None, start_date=datetime(2024, 1, 1)) as dag:

    @task
    def connection_get():
        conn = Connection.get("compat_db")
        try:
            Connection.get("compat_nowhere")
            missing = "found"
        except AirflowNotFoundException:
            missing = "not found"
        return {"conn_type": conn.conn_type, "host": conn.host, "login": conn.login, "missing": missing}

    @task
    def variable_get():
        return {
            "json": Variable.get("compat_json", deserialize_json=True),
            "default": Variable.get("compat_absent", default="total"),
        }

    connection_get()
    variable_get()
