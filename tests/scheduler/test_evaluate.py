"""The scheduler's per-run decisions, as a pure function of task-instance states."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from updraft import DAG
from updraft.core.scheduler.evaluate import TIView, evaluate_run
from updraft.operators import EmptyOperator
from updraft.sdk.serialization import deserialize_dag, serialize_dag
from updraft.sdk.states import DagRunState

NOW = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)


def build(**task_args) -> object:
    with DAG("d", schedule=None) as dag:
        a = EmptyOperator(task_id="a", **task_args)
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c", trigger_rule="all_done")
        a >> b >> c
    return deserialize_dag(serialize_dag(dag))


def views(**states) -> list[TIView]:
    return [TIView(task_id, -1, state, 1 if state else 0) for task_id, state in states.items()]


def test_roots_are_scheduled_with_their_first_try():
    decision = evaluate_run(build(), views(a=None, b=None, c=None), NOW)
    assert decision.schedule == [("a", -1, 1)]
    assert decision.run_state is None


def test_failure_propagates_and_all_done_runs_in_the_same_pass():
    decision = evaluate_run(build(), views(a="failed", b=None, c=None), NOW)
    assert decision.upstream_failed == [("b", -1)]
    assert decision.schedule == [("c", -1, 1)]


def test_run_state_follows_the_leaves():
    assert (
        evaluate_run(build(), views(a="success", b="success", c="success"), NOW).run_state
        is DagRunState.SUCCESS
    )
    done = evaluate_run(build(), views(a="failed", b="upstream_failed", c="success"), NOW)
    assert done.run_state is DagRunState.SUCCESS  # Airflow: a failed non-leaf with a succeeding leaf
    assert (
        evaluate_run(build(), views(a="success", b="success", c="failed"), NOW).run_state
        is DagRunState.FAILED
    )


def test_retry_waits_for_its_time_then_takes_the_next_try():
    later = [
        TIView("a", -1, "up_for_retry", 1, next_retry_at=NOW + timedelta(seconds=30)),
        *views(b=None, c=None),
    ]
    decision = evaluate_run(build(), later, NOW)
    assert decision.schedule == [] and decision.next_event_at == NOW + timedelta(seconds=30)
    assert decision.run_state is None
    due = [
        TIView("a", -1, "up_for_retry", 1, next_retry_at=NOW - timedelta(seconds=1)),
        *views(b=None, c=None),
    ]
    assert evaluate_run(build(), due, NOW).schedule == [("a", -1, 2)]


def test_reschedule_keeps_the_try_number():
    poke = [TIView("a", -1, "up_for_reschedule", 3, reschedule_at=NOW), *views(b=None, c=None)]
    assert evaluate_run(build(), poke, NOW).schedule == [("a", -1, 3)]


def test_depends_on_past_waits_for_the_previous_instance_and_fails_a_stuck_run():
    dag = build(depends_on_past=True)
    fresh = views(a=None, b=None, c=None)
    assert evaluate_run(dag, fresh, NOW, {}, has_past_run=False).schedule == [("a", -1, 1)]
    assert evaluate_run(dag, views(a=None, b=None, c=None), NOW, {("a", -1): "success"}, True).schedule == [
        ("a", -1, 1)
    ]
    running = evaluate_run(dag, views(a=None, b=None, c=None), NOW, {("a", -1): "running"}, True)
    assert running.schedule == [] and running.run_state is None and running.waiting_on_past
    failed = evaluate_run(dag, views(a=None, b=None, c=None), NOW, {("a", -1): "failed"}, True)
    assert failed.schedule == [] and failed.deadlocked and failed.run_state is DagRunState.FAILED


def test_wait_for_downstream_needs_the_previous_downstream_done():
    dag = build(wait_for_downstream=True)
    past = {("a", -1): "success", ("b", -1): "running"}
    assert evaluate_run(dag, views(a=None, b=None, c=None), NOW, past, True).schedule == []
    past[("b", -1)] = "success"
    assert evaluate_run(dag, views(a=None, b=None, c=None), NOW, past, True).schedule == [("a", -1, 1)]


def test_mapped_instances_count_as_upstream_instances():
    with DAG("m", schedule=None) as dag:
        producer = EmptyOperator(task_id="p")
        mapped = EmptyOperator.partial(task_id="mapped").expand(doc=["x", "y"])
        after = EmptyOperator(task_id="after")
        producer >> mapped >> after
    sdag = deserialize_dag(serialize_dag(dag))
    tis = [
        TIView("p", -1, "success", 1),
        TIView("mapped", 0, "success", 1),
        TIView("mapped", 1, "running", 1),
        TIView("after", -1, None),
    ]
    assert evaluate_run(sdag, tis, NOW).schedule == []
    tis[2].state = "success"
    assert evaluate_run(sdag, tis, NOW).schedule == [("after", -1, 1)]
