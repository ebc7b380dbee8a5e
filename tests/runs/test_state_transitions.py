"""Every state change a run writes is one that ``updraft.core.state_machine`` allows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runs.conftest import Runs
from updraft.core.runtime import run_store
from updraft.core.state_machine import ti_transition_allowed

MIXED_DAG = """
with DAG("mixed", start_date=START, schedule=None, default_args={"weight_rule": "absolute"}) as dag:
    def skip(**_):
        raise UpdraftSkipException()

    def flaky(ti, **_):
        if ti.try_number == 1:
            raise RuntimeError("transient")

    start = EmptyOperator(task_id="start", priority_weight=20)
    fast = PythonOperator(task_id="fast", python_callable=ok, priority_weight=10)
    branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "chosen", priority_weight=5)
    ready = PythonOperator(task_id="ready", python_callable=ok, trigger_rule="one_success", priority_weight=1)
    chosen = PythonOperator(task_id="chosen", python_callable=flaky, retries=2, retry_delay=0)
    skipper = PythonOperator(task_id="skipper", python_callable=skip)
    broken = PythonOperator(task_id="broken", python_callable=fail)
    after_broken = EmptyOperator(task_id="after_broken")
    cleanup = EmptyOperator(task_id="cleanup", trigger_rule="all_done")

    @task
    def each(x):
        if x == 3:
            raise ValueError("three")
        return x

    @task
    def nothing():
        return []

    start >> [fast, branch]
    fast >> ready
    branch >> [ready, chosen]
    chosen >> skipper >> each.expand(x=[1, 2])
    broken >> after_broken >> cleanup
    each.override(task_id="each_fail").expand(x=[2, 3]) >> cleanup
    each.override(task_id="each_empty").expand(x=nothing()) >> cleanup
    each.override(task_id="each_too_many").expand(x=list(range(5)))
"""


def test_every_state_change_is_an_allowed_transition(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT__CORE__MAX_MAP_LENGTH", "4")
    current: dict[tuple[str, int], str | None] = {}
    changes: list[str] = []
    forbidden: list[str] = []

    def track(task_id: str, map_index: int, new: str | None) -> None:
        old = current.get((task_id, map_index))
        changes.append(f"{task_id}[{map_index}]: {old} -> {new}")
        if not ti_transition_allowed(old, new):
            forbidden.append(changes[-1])
        current[(task_id, map_index)] = new

    def wrap(name: str, hook: Any) -> None:
        original = getattr(run_store, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            hook(*args, **kwargs)
            return original(*args, **kwargs)

        monkeypatch.setattr(run_store, name, wrapper)

    def on_set_states(
        conn: Any, dag_id: str, run_id: str, batch: list[tuple[str, int, str | None]], *_: Any, **__: Any
    ) -> None:
        for task_id, map_index, state in batch:
            track(task_id, map_index, state)

    def on_expand(conn: Any, dag_id: str, run_id: str, row: Any, count: int) -> None:
        current.pop((row.task_id, -1), None)
        for index in range(count):
            current[(row.task_id, index)] = None

    wrap("set_states", on_set_states)
    wrap("mark_running", lambda conn, d, r, task_id, map_index, *_: track(task_id, map_index, "running"))
    wrap("record_finish", lambda conn, d, r, task_id, map_index, **kw: track(task_id, map_index, kw["state"]))
    wrap("expand_task", on_expand)

    result = runs.run("mixed", MIXED_DAG)
    assert not forbidden, "\n".join(forbidden)
    # The run went through the interesting transitions at all.
    assert "chosen[-1]: up_for_retry -> running" in changes
    assert "ready[-1]: None -> skipped" in changes
    assert "start[-1]: None -> success" in changes  # an EmptyOperator succeeds without running
    assert "each_too_many[-1]: None -> failed" in changes
    assert runs.states("mixed") == {
        "start": "success",
        "fast": "success",
        "branch": "success",
        "ready": "skipped",
        "chosen": "success",
        "skipper": "skipped",
        "each": "skipped",
        "broken": "failed",
        "after_broken": "upstream_failed",
        "each_fail[0]": "success",
        "each_fail[1]": "failed",
        "nothing": "success",
        "each_empty": "skipped",
        "cleanup": "success",
        "each_too_many": "failed",
    }
    assert {f"{t}[{m}]": s for (t, m), s in current.items()} == {
        f"{row.task_id}[{row.map_index}]": row.state for row in runs.tis("mixed").values()
    }
    tis = runs.tis("mixed")
    # An EmptyOperator marked successful without running counts one try, as in Airflow.
    assert (tis["start"].try_number, tis["cleanup"].try_number) == (1, 1)
    assert (tis["ready"].try_number, tis["after_broken"].try_number) == (0, 0)
    assert runs.history("mixed", "start") == []
    assert result.state == "failed"


def test_dags_test_runs_ready_tasks_in_waves(runs: Runs, tmp_path) -> None:
    # `make` is a root with the lowest priority; `wait` (downstream of the root `prep`) has a higher
    # one. As in Airflow's `dags test`, every root runs before what they make ready, so the file
    # exists when the sensor first pokes.
    flag = tmp_path / "flag"
    result = runs.run(
        "waves",
        f"""
    from updraft.operators.sensors import PythonSensor
    import os

    with DAG("waves", start_date=START, schedule=None) as dag:
        prep = EmptyOperator(task_id="prep")
        wait = PythonSensor(
            task_id="wait", python_callable=lambda: os.path.exists({str(flag)!r}),
            poke_interval=0.05, timeout=1,
        )
        after = EmptyOperator(task_id="after")
        prep >> wait >> after
        BashOperator(task_id="make", bash_command="touch {flag}")
    """,
    )
    assert result.state == "success"
    assert runs.states("waves") == {
        "prep": "success",
        "make": "success",
        "wait": "success",
        "after": "success",
    }
