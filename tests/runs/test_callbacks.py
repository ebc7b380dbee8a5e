"""Task and DAG callbacks in real runs: which run, with what context, and that they change nothing."""

from __future__ import annotations

from tests.runs.conftest import RUN_ID, Runs

CALLBACKS = """
def record(kind):
    def callback(context):
        exc = context.get("exception")
        ti = context["ti"]
        touch("calls", f"{kind} {ti.task_id} try={ti.try_number} state={ti.state} "
                       f"exc={type(exc).__name__ if exc else None}:{exc if exc else ''} "
                       f"reason={context.get('reason')} run={context['dag_run'].run_id}")
    return callback


def explode(context):
    raise ValueError("callback bug")


TASK_CALLBACKS = dict(
    on_execute_callback=record("execute"),
    on_success_callback=record("success"),
    on_failure_callback=record("failure"),
    on_retry_callback=record("retry"),
    on_skipped_callback=record("skipped"),
)
"""


def _calls(runs: Runs) -> list[str]:
    return runs.scratch_text("calls").splitlines()


def test_task_callbacks_for_success_retry_failure_and_skip(runs: Runs) -> None:
    runs.run(
        "cb",
        prelude=CALLBACKS,
        body="""
    with DAG("cb", start_date=START, schedule=None, default_args=TASK_CALLBACKS) as dag:
        def skip(**_):
            raise UpdraftSkipException("skip me")

        good = PythonOperator(task_id="good", python_callable=ok)
        bad = PythonOperator(task_id="bad", python_callable=fail, retries=1, retry_delay=0)
        skipper = PythonOperator(task_id="skipper", python_callable=skip)
        good >> bad >> skipper
    """,
    )
    run = f"reason=None run={RUN_ID}"
    # Callbacks see the try's outcome as ti.state; "exception" is the failed try's error.
    assert _calls(runs) == [
        f"execute good try=1 state=running exc=None: {run}",
        f"success good try=1 state=success exc=None: {run}",
        f"execute bad try=1 state=running exc=None: {run}",
        f"retry bad try=1 state=up_for_retry exc=RuntimeError:boom {run}",
        f"execute bad try=2 state=running exc=None: {run}",
        f"failure bad try=2 state=failed exc=RuntimeError:boom {run}",
    ]
    # skipper never ran (upstream_failed): no callback of any kind.
    assert runs.states("cb") == {"good": "success", "bad": "failed", "skipper": "upstream_failed"}


def test_skipped_callback_runs_only_when_the_task_raises_skip(runs: Runs) -> None:
    runs.run(
        "cb",
        prelude=CALLBACKS,
        body="""
    with DAG("cb", start_date=START, schedule=None, default_args=TASK_CALLBACKS) as dag:
        def skip(**_):
            raise UpdraftSkipException("skip me")

        skipper = PythonOperator(task_id="skipper", python_callable=skip)
        follower = PythonOperator(task_id="follower", python_callable=ok)
        skipper >> follower
    """,
    )
    # A skip is not an error: the context's "exception" is None, as in Airflow.
    assert _calls(runs) == [
        f"execute skipper try=1 state=running exc=None: reason=None run={RUN_ID}",
        f"skipped skipper try=1 state=skipped exc=None: reason=None run={RUN_ID}",
    ]
    assert runs.states("cb") == {"skipper": "skipped", "follower": "skipped"}


def test_several_callbacks_all_run_and_a_raising_one_changes_nothing(runs: Runs) -> None:
    result = runs.run(
        "cb",
        prelude=CALLBACKS,
        body="""
    with DAG("cb", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="good", python_callable=ok,
                       on_execute_callback=[explode, record("execute")],
                       on_success_callback=[explode, record("success")])
        PythonOperator(task_id="bad", python_callable=fail,
                       on_failure_callback=[explode, record("failure")])
        PythonOperator(task_id="flaky", python_callable=fail, retries=1, retry_delay=0,
                       on_retry_callback=explode)
    """,
    )
    # Independent tasks run in no particular order: compare as a set.
    assert sorted(line.split(" try")[0] for line in _calls(runs)) == [
        "execute good",
        "failure bad",
        "success good",
    ]
    assert runs.states("cb") == {"good": "success", "bad": "failed", "flaky": "failed"}
    assert [h["state"] for h in runs.history("cb", "flaky")] == ["up_for_retry", "failed"]
    assert runs.history("cb", "good")[0]["error"] is None
    assert result.state == "failed"


def test_dag_success_callback(runs: Runs) -> None:
    result = runs.run(
        "dagcb",
        prelude=CALLBACKS,
        body="""
    with DAG("dagcb", start_date=START, schedule=None,
             on_success_callback=[explode, record("dag_success")],
             on_failure_callback=record("dag_failure")) as dag:
        PythonOperator(task_id="a", python_callable=ok) >> PythonOperator(task_id="b", python_callable=ok)
    """,
    )
    assert result.state == "success"
    [line] = _calls(runs)
    assert line.startswith("dag_success ")
    assert f"reason=success run={RUN_ID}" in line
    assert runs.dag_runs("dagcb")[0]["state"] == "success"


def test_dag_failure_callback_gets_the_reason_and_the_failed_task(runs: Runs) -> None:
    result = runs.run(
        "dagcb",
        prelude=CALLBACKS,
        body="""
    with DAG("dagcb", start_date=START, schedule=None,
             on_success_callback=record("dag_success"),
             on_failure_callback=[record("dag_failure"), explode]) as dag:
        PythonOperator(task_id="a", python_callable=ok) >> PythonOperator(task_id="b", python_callable=fail)
    """,
    )
    assert result.state == "failed"
    [line] = _calls(runs)
    assert line.startswith("dag_failure b ")
    assert f"reason=task_failure run={RUN_ID}" in line
    assert runs.dag_runs("dagcb")[0]["state"] == "failed"


def test_a_callback_sees_the_final_task_state_context(runs: Runs) -> None:
    """The failure callback's context is the task's context: params, ds, the task itself."""
    runs.run(
        "ctx",
        """
    def report(context):
        touch("ctx", f"{context['task'].task_id} {context['ds']} {context['params']['p']} "
                     f"{context['ti'].max_tries}")

    with DAG("ctx", start_date=START, schedule=None, params={"p": 1}) as dag:
        PythonOperator(task_id="bad", python_callable=fail, on_failure_callback=report)
    """,
        conf={"p": 2},
    )
    assert runs.scratch_text("ctx") == "bad 2024-03-05 2 0\n"


def test_pre_execute_runs_before_the_execute_callback_and_post_execute_after_execute(runs: Runs) -> None:
    runs.run(
        "order",
        """
    with DAG("order", start_date=START, schedule=None) as dag:
        PythonOperator(
            task_id="t", python_callable=lambda: touch("order", "execute"),
            pre_execute=lambda context: touch("order", "pre_execute"),
            on_execute_callback=lambda context: touch("order", "on_execute_callback"),
            post_execute=lambda context, result: touch("order", "post_execute"),
            on_success_callback=lambda context: touch("order", "on_success_callback"),
        )
    """,
    )
    assert runs.scratch_text("order").split() == [
        "pre_execute",
        "on_execute_callback",
        "execute",
        "post_execute",
        "on_success_callback",
    ]
