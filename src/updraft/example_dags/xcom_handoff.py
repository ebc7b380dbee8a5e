"""XCom hand-off between classic operators and TaskFlow tasks, with typed values.

Values keep their Python types across tasks: datetimes, Decimals, tuples and dicts with
tuple keys (as ``pandas`` produces from ``groupby(...).agg(...).to_dict()``).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from updraft import DAG, task
from updraft.operators import BashOperator, PythonOperator


def extract(ti, **_):
    ti.xcom_push(key="extracted_at", value=datetime(2024, 1, 1, 6, 30))
    return {("eu", "2024-01"): Decimal("10.50"), ("us", "2024-01"): Decimal("4.25")}


with DAG(
    dag_id="example_xcom_handoff",
    schedule=timedelta(hours=6),
    start_date=datetime(2024, 1, 1),
    tags=["example"],
) as dag:
    produce = PythonOperator(task_id="extract", python_callable=extract)

    @task
    def transform(totals: dict, extracted_at: datetime) -> dict:
        assert isinstance(extracted_at, datetime)
        return {"regions": sorted(region for region, _ in totals), "sum": sum(totals.values())}

    @task
    def render(summary: dict) -> str:
        return f"{len(summary['regions'])} regions, total {summary['sum']}"

    shout = BashOperator(
        task_id="shout",
        bash_command="echo \"{{ ti.xcom_pull(task_ids='render') | upper }}\"",
    )

    summary = transform(produce.output, produce.output["extracted_at"])
    render(summary) >> shout
