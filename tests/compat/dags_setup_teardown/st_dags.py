"""Setup and teardown tasks in Airflow 2.7+ style: operators, decorators and the `with` form."""

import pendulum
from airflow.decorators import setup, task, teardown
from airflow.models.dag import DAG
from airflow.operators.bash import BashOperator

START = pendulum.datetime(2024, 1, 1, tz="UTC")

# The work fails, the teardown still runs, and the run fails because of the work (not the teardown).
with DAG("st_work_fails", schedule=None, start_date=START):
    create = BashOperator(task_id="create", bash_command="echo up").as_setup()
    work = BashOperator(task_id="work", bash_command="exit 1")
    delete = BashOperator(task_id="delete", bash_command="echo down").as_teardown(setups=create)
    create >> work >> delete

# Only the teardown fails: the run still succeeds (its failure does not count by default)...
with DAG("st_teardown_fails", schedule=None, start_date=START):
    create = BashOperator(task_id="create", bash_command="echo up").as_setup()
    work = BashOperator(task_id="work", bash_command="echo work")
    delete = BashOperator(task_id="delete", bash_command="exit 3").as_teardown(setups=create)
    create >> work >> delete

# ...unless it says on_failure_fail_dagrun=True.
with DAG("st_teardown_fails_run", schedule=None, start_date=START):
    create = BashOperator(task_id="create", bash_command="echo up").as_setup()
    work = BashOperator(task_id="work", bash_command="echo work")
    delete = BashOperator(task_id="delete", bash_command="exit 3").as_teardown(
        setups=create, on_failure_fail_dagrun=True
    )
    create >> work >> delete

# Decorators and the context manager: tasks in the block run between setup and teardown.
with DAG("st_decorated", schedule=None, start_date=START):

    @setup
    def make_cluster():
        return "cluster-1"

    @teardown
    def drop_cluster(cluster_id):
        print("dropping", cluster_id)

    @task
    def first():
        return 1

    @task
    def second(value):
        return value + 1

    with drop_cluster(make_cluster()):
        second(first())

# The setup fails: the work is upstream_failed, the teardown is skipped, and the run fails.
with DAG("st_setup_fails", schedule=None, start_date=START):
    create = BashOperator(task_id="create", bash_command="exit 1").as_setup()
    delete = BashOperator(task_id="delete", bash_command="echo down").as_teardown(setups=create)
    create >> BashOperator(task_id="work", bash_command="echo work") >> delete
