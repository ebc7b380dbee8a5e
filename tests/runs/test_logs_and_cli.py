"""Attempt logs (one file per try, documented layout) and the ``updraft dags test`` / ``tasks logs`` CLI."""

from __future__ import annotations

from tests.runs.conftest import RUN_ID, Runs

LOGGING_DAG = """
with DAG("logs", start_date=START, schedule=None) as dag:
    class Noisy(PythonOperator):
        def execute(self, context):
            self.log.info("operator log line from try %s", context["ti"].try_number)
            return super().execute(context)

    def work(ti, **_):
        print(f"printed on try {ti.try_number}")
        if ti.try_number == 1:
            raise KeyError("first try breaks")
        return "fine"

    Noisy(task_id="work", python_callable=work, retries=1, retry_delay=0)
    PythonOperator.partial(task_id="each", python_callable=lambda x: print(f"item {x}")).expand(op_args=[[1], [2]])
"""


def test_one_log_file_per_attempt_in_the_documented_layout(runs: Runs) -> None:
    result = runs.run("logs", LOGGING_DAG)
    assert result.log_folder == runs.log_folder
    task_dir = runs.log_folder / "dag_id=logs" / f"run_id={RUN_ID}" / "task_id=work"
    assert sorted(p.name for p in task_dir.iterdir()) == ["attempt=1.log", "attempt=2.log"]
    first = (task_dir / "attempt=1.log").read_text()
    second = (task_dir / "attempt=2.log").read_text()
    assert "printed on try 1" in first and "printed on try 2" not in first
    assert "operator log line from try 1" in first
    assert "Traceback (most recent call last)" in first
    assert "KeyError: 'first try breaks'" in first
    assert "with state up_for_retry" in first
    assert "printed on try 2" in second and "operator log line from try 2" in second
    assert "Traceback" not in second
    assert "Returned value was: fine" in second and "with state success" in second
    mapped = runs.log_folder / "dag_id=logs" / f"run_id={RUN_ID}" / "task_id=each"
    assert sorted(str(p.relative_to(mapped)) for p in mapped.rglob("*.log")) == [
        "map_index=0/attempt=1.log",
        "map_index=1/attempt=1.log",
    ]
    assert "item 2" in (mapped / "map_index=1" / "attempt=1.log").read_text()


def test_tasks_logs_prints_the_chosen_attempt(runs: Runs) -> None:
    runs.run("logs", LOGGING_DAG)
    first = runs.cli("tasks", "logs", "logs", RUN_ID, "work", "--try", "1")
    assert first.returncode == 0, first.stderr
    assert "printed on try 1" in first.stdout and "KeyError: 'first try breaks'" in first.stdout
    latest = runs.cli("tasks", "logs", "logs", RUN_ID, "work")
    assert latest.returncode == 0 and "printed on try 2" in latest.stdout
    mapped = runs.cli("tasks", "logs", "logs", RUN_ID, "each", "--map-index", "1")
    assert mapped.returncode == 0 and "item 2" in mapped.stdout
    missing = runs.cli("tasks", "logs", "logs", RUN_ID, "work", "--try", "3")
    assert missing.returncode == 2
    assert "no try 3" in missing.stderr and "1, 2" in missing.stderr


def test_dags_test_exits_zero_on_success_and_prints_the_table(runs: Runs) -> None:
    runs.write("""
    with DAG("cli_ok", start_date=START, schedule=None) as dag:
        @task
        def extract():
            return [1, 2]

        @task
        def load(x):
            return x

        load.expand(x=extract())
    """)
    done = runs.cli("dags", "test", "cli_ok", "2024-03-05T06:07:08+00:00")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("extract" in line and "success" in line for line in lines), done.stdout
    assert sum("load" in line and "success" in line for line in lines) == 2, done.stdout
    assert "success" in done.stderr and "cli_ok" in done.stderr
    [run] = runs.dag_runs("cli_ok")
    assert (run["run_id"], run["state"]) == (RUN_ID, "success")
    assert runs.states("cli_ok") == {"extract": "success", "load[0]": "success", "load[1]": "success"}


def test_dags_test_exits_one_on_failure_and_names_the_failed_task(runs: Runs) -> None:
    runs.write("""
    with DAG("cli_bad", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="broken", python_callable=fail) >> EmptyOperator(task_id="after")
    """)
    done = runs.cli("dags", "test", "cli_bad", "2024-03-05")
    assert done.returncode == 1
    assert any("broken" in line and "failed" in line for line in done.stdout.splitlines()), done.stdout
    assert any("after" in line and "upstream_failed" in line for line in done.stdout.splitlines())
    assert "broken failed: RuntimeError: boom" in done.stderr
    assert runs.dag_runs("cli_bad")[0]["state"] == "failed"


def test_dags_test_of_an_unknown_dag_exits_two(runs: Runs) -> None:
    runs.write("""
    with DAG("present", start_date=START, schedule=None) as dag:
        EmptyOperator(task_id="t")
    """)
    done = runs.cli("dags", "test", "absent")
    assert done.returncode == 2
    assert "'absent'" in done.stderr
