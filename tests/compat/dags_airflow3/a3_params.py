"""Airflow 3 style: params with defaults and validation, overridden by the trigger conf; a custom
airflow.sdk.BaseOperator; standard-provider LatestOnly and TriggerDagRun operators."""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.latest_only import LatestOnlyOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, BaseOperator, Context, Param, task


class Greeting(BaseOperator):
    template_fields = ("who",)

    def __init__(self, *, who: str, **kwargs):
        super().__init__(**kwargs)
        self.who = who

    def execute(self, context: Context):
        return f"hello {self.who} ({context['params']['days']} days)"


with DAG("a3_params_target", schedule=None, start_date=datetime(2024, 1, 1)) as target:
    BashOperator(task_id="echo", bash_command="echo {{ dag_run.conf.city }}")

with DAG(
    "a3_params",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    params={
        "city": Param("oslo", type="string", enum=["oslo", "lima", "pune"]),
        "days": Param(7, type="integer", minimum=1, maximum=31),
        "verbose": False,
    },
) as dag:
    greet = BashOperator(task_id="greet", bash_command="echo {{ params.city }}-{{ params.days }}")
    hello = Greeting(task_id="hello", who="{{ params.city | title }}")

    @task
    def seen(params=None, dag_run=None):
        return {"params": dict(params), "conf": dict(dag_run.conf or {})}

    latest = LatestOnlyOperator(task_id="latest_only")
    kick = TriggerDagRunOperator(
        task_id="kick",
        trigger_dag_id="a3_params_target",
        trigger_run_id="kicked_by_params",
        conf={"city": "{{ params.city }}"},
    )
    greet >> hello >> seen() >> latest >> kick
