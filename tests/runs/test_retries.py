"""Retries, retry delays and backoff, fail/skip exceptions and execution_timeout in real runs."""

from __future__ import annotations

import math
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.runs.conftest import RUN_ID, Runs
from updraft.core.db.models import TaskInstance
from updraft.core.runtime.attempt import retry_delay
from updraft.core.runtime.local_run import RunProgress
from updraft.operators import PythonOperator

# -- the pure backoff rule ---------------------------------------------------------------------


def _task(**kwargs: object) -> PythonOperator:
    return PythonOperator(task_id="t", python_callable=lambda: None, **kwargs)


def test_without_backoff_the_delay_is_retry_delay() -> None:
    task = _task(retry_delay=timedelta(seconds=42))
    assert [retry_delay(task, n, "d", "r") for n in (1, 2, 5)] == [timedelta(seconds=42)] * 3


@pytest.mark.parametrize("base", [0.0, 0.3, 1.0, 5.0, 7.5])
def test_exponential_backoff_follows_airflows_formula(base: float) -> None:
    """Airflow: min_backoff = max(1, ceil(retry_delay * 2 ** (try - 1))); delay in [min, 2 * min)."""
    task = _task(retry_delay=base, retry_exponential_backoff=True)
    for try_number in range(1, 8):
        min_backoff = max(1, math.ceil(base * 2 ** (try_number - 1)))
        delay = retry_delay(task, try_number, "dag", "run")
        assert timedelta(seconds=min_backoff) <= delay < timedelta(seconds=2 * min_backoff), (
            base,
            try_number,
        )
        assert delay.total_seconds() == int(delay.total_seconds())  # whole seconds, as Airflow
        assert retry_delay(task, try_number, "dag", "run") == delay  # deterministic per try


def test_backoff_jitter_differs_between_task_instances() -> None:
    task = _task(retry_delay=100, retry_exponential_backoff=True)
    delays = {retry_delay(task, 3, "dag", f"run_{i}") for i in range(20)}
    assert len(delays) > 1
    assert all(timedelta(seconds=400) <= d < timedelta(seconds=800) for d in delays)


def test_backoff_is_capped_by_max_retry_delay_and_by_the_config_cap() -> None:
    task = _task(retry_delay=60, retry_exponential_backoff=True, max_retry_delay=timedelta(minutes=5))
    assert retry_delay(task, 10, "d", "r") == timedelta(minutes=5)
    assert retry_delay(task, 10, "d", "r", max_delay_cap=timedelta(seconds=90)) == timedelta(seconds=90)
    assert retry_delay(_task(retry_delay=60), 1, "d", "r", timedelta(seconds=10)) == timedelta(seconds=10)


# -- retries in runs ---------------------------------------------------------------------------

FLAKY = """
with DAG("flaky", start_date=START, schedule=None) as dag:
    def flaky(ti, **_):
        touch("tries", str(ti.try_number))
        if ti.try_number < {succeed_on}:
            raise RuntimeError(f"flake {{ti.try_number}}")
        return "ok"

    t = PythonOperator(task_id="t", python_callable=flaky, retries={retries}, retry_delay={delay})
    down = PythonOperator(task_id="down", python_callable=ok)
    t >> down
"""


def test_a_flaky_task_is_retried_until_it_succeeds(runs: Runs) -> None:
    seen: list[dict[str, str | None]] = []

    def on_progress(progress: RunProgress) -> None:
        if progress.states.get("up_for_retry"):
            seen.append(runs.states("flaky"))  # what the DB says while the task waits

    result = runs.run("flaky", FLAKY.format(succeed_on=3, retries=3, delay=0), on_progress=on_progress)
    assert result.state == "success"
    assert runs.scratch_text("tries") == "1\n2\n3\n"
    ti = runs.tis("flaky")["t"]
    assert (ti.state, ti.try_number, ti.max_tries) == ("success", 3, 3)
    history = runs.history("flaky", "t")
    assert [(h["try_number"], h["state"]) for h in history] == [
        (1, "up_for_retry"),
        (2, "up_for_retry"),
        (3, "success"),
    ]
    assert history[0]["error"] == "RuntimeError: flake 1"
    assert history[2]["error"] is None
    assert {"t": "up_for_retry", "down": None} in seen
    assert runs.states("flaky")["down"] == "success"
    assert [(r.task_id, r.try_number) for r in result.records] == [("t", 3), ("down", 1)]


def test_exhausted_retries_fail_the_task(runs: Runs) -> None:
    result = runs.run("flaky", FLAKY.format(succeed_on=99, retries=2, delay=0))
    assert runs.states("flaky") == {"t": "failed", "down": "upstream_failed"}
    assert runs.tis("flaky")["t"].try_number == 3
    assert [h["state"] for h in runs.history("flaky", "t")] == ["up_for_retry", "up_for_retry", "failed"]
    assert result.state == "failed"


def test_a_try_that_will_be_retried_is_not_a_failure_for_trigger_rules(runs: Runs) -> None:
    runs.run(
        "alerting",
        """
    with DAG("alerting", start_date=START, schedule=None) as dag:
        def flaky(ti, **_):
            if ti.try_number == 1:
                raise RuntimeError("transient")

        t = PythonOperator(task_id="t", python_callable=flaky, retries=1, retry_delay=0)
        alert = PythonOperator(task_id="alert", python_callable=lambda: touch("alerted"),
                               trigger_rule="one_failed")
        t >> alert
    """,
    )
    assert runs.states("alerting") == {"t": "success", "alert": "skipped"}
    assert runs.scratch_text("alerted") == ""


def test_retry_delay_is_honoured(runs: Runs) -> None:
    runs.run("flaky", FLAKY.format(succeed_on=2, retries=1, delay=0.3))
    first, second = runs.history("flaky", "t")
    assert first["state"] == "up_for_retry"
    assert second["start_date"] - first["end_date"] >= timedelta(seconds=0.3)


def test_retries_from_default_args(runs: Runs) -> None:
    runs.run(
        "defaults",
        """
    with DAG("defaults", start_date=START, schedule=None,
             default_args={"retries": 2, "retry_delay": timedelta(0)}) as dag:
        PythonOperator(task_id="t", python_callable=fail)
    """,
    )
    assert [h["state"] for h in runs.history("defaults", "t")] == ["up_for_retry", "up_for_retry", "failed"]


def test_fail_exception_skips_the_remaining_retries(runs: Runs) -> None:
    result = runs.run(
        "fatal",
        """
    with DAG("fatal", start_date=START, schedule=None) as dag:
        def fatal(**_):
            raise UpdraftFailException("bad input, no point retrying")

        PythonOperator(task_id="t", python_callable=fatal, retries=3, retry_delay=0)
    """,
    )
    ti = runs.tis("fatal")["t"]
    assert (ti.state, ti.try_number) == ("failed", 1)
    assert [h["error"] for h in runs.history("fatal", "t")] == [
        "UpdraftFailException: bad input, no point retrying"
    ]
    assert result.state == "failed"


def test_skip_exception_skips_the_task_and_its_downstream(runs: Runs) -> None:
    result = runs.run(
        "skipper",
        """
    with DAG("skipper", start_date=START, schedule=None) as dag:
        @task(retries=2, retry_delay=0)
        def maybe():
            raise UpdraftSkipException("nothing to do")

        @task
        def after():
            touch("after")

        maybe() >> after()
    """,
    )
    assert runs.states("skipper") == {"maybe": "skipped", "after": "skipped"}
    assert [h["state"] for h in runs.history("skipper", "maybe")] == ["skipped"]
    assert runs.scratch_text("after") == ""
    assert result.state == "success"


def test_execution_timeout_fails_the_try_and_is_retried(runs: Runs) -> None:
    result = runs.run(
        "slow",
        """
    import time
    with DAG("slow", start_date=START, schedule=None) as dag:
        def slow(ti, **_):
            touch("tries", str(ti.try_number))
            time.sleep(0.2 if ti.try_number == 2 else 30)
            return "done"

        PythonOperator(task_id="t", python_callable=slow, retries=1, retry_delay=0,
                       execution_timeout=timedelta(seconds=0.5))
    """,
    )
    history = runs.history("slow", "t")
    assert [h["state"] for h in history] == ["up_for_retry", "success"]
    assert history[0]["error"].startswith("UpdraftTaskTimeout: ")
    assert "execution_timeout" in history[0]["error"]
    assert history[0]["duration"] < 10
    assert result.state == "success"


def test_execution_timeout_without_retries_fails(runs: Runs) -> None:
    runs.run(
        "slow",
        """
    import time
    with DAG("slow", start_date=START, schedule=None) as dag:
        @task(execution_timeout=0.2)
        def forever():
            time.sleep(30)

        forever()
    """,
    )
    assert runs.states("slow") == {"forever": "failed"}


def test_a_zero_execution_timeout_times_out_at_once(runs: Runs) -> None:
    """Airflow fails a task whose execution_timeout is not positive before it runs."""
    runs.run(
        "zero",
        """
    with DAG("zero", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="t", python_callable=lambda: touch("ran"), execution_timeout=timedelta(0))
    """,
    )
    assert runs.states("zero") == {"t": "failed"}
    assert runs.history("zero", "t")[0]["error"].startswith("UpdraftTaskTimeout: ")
    assert runs.scratch_text("ran") == ""


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_bash_command_that_times_out_leaves_no_process_behind(runs: Runs) -> None:
    runs.run(
        "bash_timeout",
        """
    with DAG("bash_timeout", start_date=START, schedule=None) as dag:
        BashOperator(
            task_id="sleepy",
            bash_command=f"echo $$ > {TMP}/shell.pid; sleep 30 & echo $! > {TMP}/child.pid; wait",
            execution_timeout=timedelta(seconds=0.5),
        )
    """,
    )
    assert runs.states("bash_timeout") == {"sleepy": "failed"}
    assert "execution_timeout" in runs.history("bash_timeout", "sleepy")[0]["error"]
    pids = [int(runs.scratch_text(name)) for name in ("shell.pid", "child.pid")]
    assert all(pid != os.getpid() for pid in pids)
    assert [pid for pid in pids if _alive(pid)] == []


def test_up_for_retry_rows_record_when_the_next_try_is_due(runs: Runs) -> None:
    """While the task waits, its row says up_for_retry, with next_retry_at after the try's end."""
    rows = []

    def on_progress(progress: RunProgress) -> None:
        if progress.states.get("up_for_retry"):
            with runs.engine.connect() as conn:
                rows.append(
                    conn.execute(
                        select(TaskInstance.state, TaskInstance.next_retry_at, TaskInstance.end_date).where(
                            TaskInstance.run_id == RUN_ID, TaskInstance.task_id == "t"
                        )
                    ).one()
                )

    runs.run("flaky", FLAKY.format(succeed_on=2, retries=1, delay=0.2), on_progress=on_progress)
    assert rows
    state, next_retry_at, end_date = rows[0]
    assert state == "up_for_retry"
    assert next_retry_at - end_date >= timedelta(seconds=0.2)
