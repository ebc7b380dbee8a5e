"""Airflow 3 style: SQLExecuteQueryOperator on a SQLite connection given by AIRFLOW_CONN_COMPAT_SQLITE."""

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, task

with DAG("a3_sql", schedule=None, start_date=datetime(2024, 1, 1), template_searchpath=[]) as dag:
    create = SQLExecuteQueryOperator(
        task_id="create",
        conn_id="compat_sqlite",
        sql=[
            "CREATE TABLE IF NOT EXISTS visits (day TEXT, city TEXT, n INTEGER)",
            "DELETE FROM visits WHERE day = '{{ ds }}'",
        ],
    )
    insert = SQLExecuteQueryOperator(
        task_id="insert",
        conn_id="compat_sqlite",
        sql="INSERT INTO visits VALUES ('{{ ds }}', 'oslo', 3), ('{{ ds }}', 'lima', 4), ('{{ ds }}', 'oslo', 5)",
    )
    select = SQLExecuteQueryOperator(
        task_id="select",
        conn_id="compat_sqlite",
        sql="SELECT city, SUM(n) FROM visits WHERE day = :day GROUP BY city ORDER BY city",
        parameters={"day": "{{ ds }}"},
    )

    @task
    def summarize(rows):
        return {"rows": [list(r) for r in rows], "total": sum(r[1] for r in rows)}

    create >> insert >> select
    summarize(select.output)
