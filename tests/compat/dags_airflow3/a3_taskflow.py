"""Airflow 3 style: @dag/@task, dynamic mapping, params, and XCom between classic and TaskFlow tasks."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import Context, Label, Param, TriggerRule, chain, dag, get_current_context, task, task_group


def classic_numbers():
    return [2, 3, 4]


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={"factor": Param(10, type="integer", minimum=1), "label": Param("run", type="string")},
    tags=["airflow3"],
)
def a3_taskflow():
    numbers = PythonOperator(task_id="numbers", python_callable=classic_numbers)

    @task
    def scale(n: int, factor: int) -> int:
        return n * factor

    @task
    def total(values) -> int:
        return sum(values)

    @task_group(group_id="report")
    def report(amount):
        @task
        def describe(amount: int) -> str:
            context: Context = get_current_context()
            return f"{context['params']['label']}:{amount}:{context['ds']}"

        shout = BashOperator(
            task_id="shout",
            bash_command="echo \"{{ ti.xcom_pull(task_ids='report.describe') | upper }}\"",
        )
        described = describe(amount)
        described >> shout
        return shout

    @task
    def read_factor() -> int:
        return get_current_context()["params"]["factor"]

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def read_bash(line: str) -> str:
        return line[::-1]

    scaled = scale.partial(factor=read_factor()).expand(n=numbers.output)
    summed = total(scaled)
    shouted = report(summed)
    read_bash(shouted.output)
    chain(numbers, Label("scale"), scaled)


a3_taskflow()
