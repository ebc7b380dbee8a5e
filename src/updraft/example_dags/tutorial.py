"""Tutorial: a small chain of Bash and Python tasks, with templating, retries and docs.

Run it with ``updraft dags test example_tutorial``.
"""

from datetime import datetime, timedelta

from updraft import DAG
from updraft.operators import BashOperator, PythonOperator

default_args = {
    "owner": "data-team",
    "retries": 1,
    "retry_delay": timedelta(seconds=5),
}


def summarize(ds: str, ti, **context) -> dict:
    """Read what the Bash task printed last and turn it into a small report."""
    disk_line = ti.xcom_pull(task_ids="measure_disk")
    print(f"Report for {ds}: {disk_line}")
    return {"date": ds, "disk": disk_line}


with DAG(
    dag_id="example_tutorial",
    description="A chain of Bash and Python tasks",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args=default_args,
    tags=["example", "tutorial"],
    doc_md="""
    ### Tutorial
    Prints the date, measures free disk space with Bash, then summarizes it in Python.
    """,
) as dag:
    print_date = BashOperator(task_id="print_date", bash_command="date -u +%Y-%m-%dT%H:%M:%S")

    templated = BashOperator(
        task_id="templated",
        bash_command=(
            "{% for i in range(3) %}"
            "echo 'run {{ run_id }} day {{ ds }} +{{ i }} = {{ macros.ds_add(ds, i) }}';"
            "{% endfor %}"
        ),
    )

    measure_disk = BashOperator(task_id="measure_disk", bash_command="df -h / | tail -n 1 | tr -s ' '")

    report = PythonOperator(task_id="summarize", python_callable=summarize)

    print_date >> [templated, measure_disk] >> report
