"""Branching and short-circuiting: which downstream tasks get skipped."""

from __future__ import annotations

from typing import Any

import pytest

from tests.operators.helpers import run_task
from updraft.operators import (
    BaseBranchOperator,
    BranchPythonOperator,
    EmptyOperator,
    ShortCircuitOperator,
)
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.taskgroup import TaskGroup


def branch_dag(choice: Any) -> tuple[DAG, BranchPythonOperator]:
    with DAG("branching", schedule=None) as dag:
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: choice)
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c")
        after_a = EmptyOperator(task_id="after_a")
        branch >> [a, b, c]
        a >> after_a
    return dag, branch


def test_single_id_skips_other_direct_branches() -> None:
    _, branch = branch_dag("a")
    outcome = run_task(branch)
    assert outcome.result == "a"
    assert outcome.ti.skipped == {"b", "c"}


def test_list_of_ids() -> None:
    _, branch = branch_dag(["a", "c"])
    assert run_task(branch).ti.skipped == {"b"}


def test_none_skips_all_direct_downstream() -> None:
    _, branch = branch_dag(None)
    assert run_task(branch).ti.skipped == {"a", "b", "c"}


def test_unknown_id_names_it_and_the_valid_choices() -> None:
    _, branch = branch_dag(["a", "nope"])
    with pytest.raises(UpdraftException) as info:
        run_task(branch)
    message = str(info.value)
    assert "'nope'" in message and "'a'" not in message.split("returned")[1].split(";")[0]
    assert "a, b, c" in message


def test_wrong_type_is_rejected() -> None:
    _, branch = branch_dag(5)
    with pytest.raises(UpdraftException, match="task id"):
        run_task(branch)
    _, branch = branch_dag(["a", 1])
    with pytest.raises(UpdraftException, match="strings"):
        run_task(branch)


def test_join_task_reachable_through_followed_branch_is_not_skipped() -> None:
    with DAG("join", schedule=None):
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "work")
        work = EmptyOperator(task_id="work")
        other = EmptyOperator(task_id="other")
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        branch >> [work, other, join]
        work >> join
    assert run_task(branch).ti.skipped == {"other"}


def test_task_group_id_follows_the_groups_roots() -> None:
    with DAG("groups", schedule=None):
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "left")
        with TaskGroup("left") as left:
            first = EmptyOperator(task_id="first")
            second = EmptyOperator(task_id="second")
            first >> second
        with TaskGroup("right") as right:
            EmptyOperator(task_id="only")
        branch >> [left, right]
    assert run_task(branch).ti.skipped == {"right.only"}


def test_no_skips_when_everything_followed() -> None:
    _, branch = branch_dag(["a", "b", "c"])
    outcome = run_task(branch)
    assert outcome.ti.skipped == set()
    assert outcome.ti.skip_calls == 0


def test_base_branch_operator_subclass() -> None:
    class Choose(BaseBranchOperator):
        def choose_branch(self, context: Any) -> str:
            return "b" if context["ds"].endswith("05") else "a"

    with DAG("custom", schedule=None):
        choose = Choose(task_id="choose")
        choose >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")]
    assert run_task(choose).ti.skipped == {"a"}


def short_circuit_dag(condition: Any, ignore: bool) -> ShortCircuitOperator:
    with DAG("short", schedule=None):
        check = ShortCircuitOperator(
            task_id="check", python_callable=lambda: condition, ignore_downstream_trigger_rules=ignore
        )
        direct = EmptyOperator(task_id="direct")
        later = EmptyOperator(task_id="later", trigger_rule="all_done")
        check >> direct >> later
    return check


def test_short_circuit_truthy_continues() -> None:
    outcome = run_task(short_circuit_dag([1], ignore=True))
    assert outcome.result == [1]
    assert outcome.ti.skipped == set()


def test_short_circuit_ignoring_trigger_rules_skips_everything_downstream() -> None:
    outcome = run_task(short_circuit_dag(0, ignore=True))
    assert outcome.result == 0
    assert outcome.ti.skipped == {"direct", "later"}


def test_short_circuit_respecting_trigger_rules_skips_direct_only() -> None:
    outcome = run_task(short_circuit_dag(None, ignore=False))
    assert outcome.ti.skipped == {"direct"}
