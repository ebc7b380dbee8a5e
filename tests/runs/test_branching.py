"""Branching and short-circuiting in real runs, as Airflow's "Branching" documentation describes."""

from __future__ import annotations

import pytest

from tests.runs.conftest import Runs

BRANCH_DAG = """
with DAG("branchy", start_date=START, schedule=None) as dag:
    branch = BranchPythonOperator(task_id="branch", python_callable=lambda: {choice!r})
    a = PythonOperator(task_id="a", python_callable=ok)
    a2 = PythonOperator(task_id="a2", python_callable=ok)
    b = PythonOperator(task_id="b", python_callable=ok)
    b2 = PythonOperator(task_id="b2", python_callable=ok)
    join = PythonOperator(task_id="join", python_callable=ok, trigger_rule="none_failed_min_one_success")
    naive_join = PythonOperator(task_id="naive_join", python_callable=ok)
    branch >> [a, b]
    a >> a2 >> [join, naive_join]
    b >> b2 >> [join, naive_join]
"""


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (
            "a",
            {
                "a": "success",
                "a2": "success",
                "b": "skipped",
                "b2": "skipped",
                "join": "success",
                "naive_join": "skipped",
            },
        ),
        (
            ["a", "b"],
            {
                "a": "success",
                "a2": "success",
                "b": "success",
                "b2": "success",
                "join": "success",
                "naive_join": "success",
            },
        ),
        (
            None,
            {
                "a": "skipped",
                "a2": "skipped",
                "b": "skipped",
                "b2": "skipped",
                "join": "skipped",
                "naive_join": "skipped",
            },
        ),
    ],
    ids=["one-branch", "both-branches", "no-branch"],
)
def test_branch_python_operator(runs: Runs, choice: object, expected: dict[str, str]) -> None:
    result = runs.run("branchy", BRANCH_DAG.format(choice=choice))
    assert runs.states("branchy") == {"branch": "success", **expected}
    # The branch's return value is its XCom (None pushes nothing).
    assert runs.xcoms("branchy").get(("branch", -1, "return_value")) == choice
    assert result.state == "success"


def test_task_branch_decorator_and_a_join_reachable_through_the_chosen_branch(runs: Runs) -> None:
    """A direct downstream of the branch that the chosen branch also leads to is not skipped."""
    runs.run(
        "deco",
        """
    with DAG("deco", start_date=START, schedule=None, params={"go": "left"}) as dag:
        @task.branch
        def pick(params=None):
            return params["go"]

        @task
        def left():
            return "L"

        @task
        def right():
            return "R"

        @task(trigger_rule="none_failed_min_one_success")
        def join(l=None, r=None):
            touch("join", f"{l}|{r}")

        p = pick()
        l, r = left(), right()
        p >> [l, r]
        j = join(l, r)
        p >> j
    """,
        conf={"go": "right"},
    )
    assert runs.states("deco") == {
        "pick": "success",
        "left": "skipped",
        "right": "success",
        "join": "success",
    }
    # The skipped branch pushed nothing, so its argument resolves to None.
    assert runs.scratch_text("join") == "None|R\n"


def test_a_branch_returning_a_task_group_follows_the_group_roots(runs: Runs) -> None:
    runs.run(
        "groups",
        """
    from updraft import TaskGroup
    with DAG("groups", start_date=START, schedule=None) as dag:
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "g1")
        with TaskGroup("g1") as g1:
            PythonOperator(task_id="x", python_callable=ok) >> PythonOperator(task_id="y", python_callable=ok)
        with TaskGroup("g2") as g2:
            PythonOperator(task_id="x", python_callable=ok)
        branch >> [g1, g2]
    """,
    )
    assert runs.states("groups") == {
        "branch": "success",
        "g1.x": "success",
        "g1.y": "success",
        "g2.x": "skipped",
    }


def test_a_branch_to_an_unknown_task_fails_naming_it(runs: Runs) -> None:
    result = runs.run(
        "unknown",
        """
    with DAG("unknown", start_date=START, schedule=None) as dag:
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "nope")
        branch >> [PythonOperator(task_id="a", python_callable=ok)]
    """,
    )
    assert runs.states("unknown") == {"branch": "failed", "a": "upstream_failed"}
    error = runs.history("unknown", "branch")[0]["error"]
    assert "'nope'" in error and "branch" in error
    assert result.state == "failed"


SHORT_CIRCUIT_DAG = """
with DAG("sc", start_date=START, schedule=None) as dag:
    check = ShortCircuitOperator(task_id="check", python_callable=lambda: {condition!r},
                                 ignore_downstream_trigger_rules={ignore!r})
    direct = PythonOperator(task_id="direct", python_callable=ok)
    after = PythonOperator(task_id="after", python_callable=ok)
    cleanup = PythonOperator(task_id="cleanup", python_callable=ok, trigger_rule="all_done")
    other = PythonOperator(task_id="other", python_callable=ok)
    check >> direct >> after >> cleanup
    other >> cleanup
"""


@pytest.mark.parametrize(
    ("condition", "ignore", "expected"),
    [
        # Falsy, ignore_downstream_trigger_rules=True: every downstream task is skipped, even all_done.
        (0, True, {"direct": "skipped", "after": "skipped", "cleanup": "skipped"}),
        # Falsy, False: only the direct downstream is skipped; later tasks follow their trigger rules.
        ("", False, {"direct": "skipped", "after": "skipped", "cleanup": "success"}),
        # Truthy: nothing is skipped.
        ("yes", True, {"direct": "success", "after": "success", "cleanup": "success"}),
    ],
    ids=["falsy-ignore-rules", "falsy-respect-rules", "truthy"],
)
def test_short_circuit(runs: Runs, condition: object, ignore: bool, expected: dict[str, str]) -> None:
    result = runs.run("sc", SHORT_CIRCUIT_DAG.format(condition=condition, ignore=ignore))
    assert runs.states("sc") == {"check": "success", "other": "success", **expected}
    assert runs.xcoms("sc")[("check", -1, "return_value")] == condition
    assert result.state == "success"


def test_short_circuit_decorator_skips_only_its_own_downstream(runs: Runs) -> None:
    runs.run(
        "scdeco",
        """
    with DAG("scdeco", start_date=START, schedule=None) as dag:
        @task.short_circuit
        def has_rows():
            return []

        @task
        def publish():
            touch("published")

        @task
        def unrelated():
            touch("unrelated")

        has_rows() >> publish()
        unrelated()
    """,
    )
    assert runs.states("scdeco") == {"has_rows": "success", "publish": "skipped", "unrelated": "success"}
    assert runs.scratch_text("published") == ""
    assert runs.scratch_text("unrelated") == "\n"


def test_a_branch_skips_a_task_that_was_ready_but_had_not_started(runs: Runs) -> None:
    """``x`` (one_success) is ready once ``a`` succeeds; the branch, which runs first, skips it."""
    runs.run(
        "ready",
        """
    with DAG("ready", start_date=START, schedule=None, default_args={"weight_rule": "absolute"}) as dag:
        a = PythonOperator(task_id="a", python_callable=ok, priority_weight=10)
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "y", priority_weight=5)
        x = PythonOperator(task_id="x", python_callable=lambda: touch("x ran"), trigger_rule="one_success",
                           priority_weight=1)
        y = PythonOperator(task_id="y", python_callable=ok, priority_weight=1)
        a >> x
        branch >> [x, y]
    """,
    )
    tis = runs.tis("ready")
    assert {k: v.state for k, v in tis.items()} == {
        "a": "success",
        "branch": "success",
        "x": "skipped",
        "y": "success",
    }
    assert tis["a"].end_date <= tis["branch"].start_date  # x was ready before the branch ran
    assert tis["x"].try_number == 0
    assert runs.scratch_text("x ran") == ""
    assert runs.history("ready", "x") == []


def test_a_branch_can_skip_a_mapped_task(runs: Runs) -> None:
    runs.run(
        "skipmapped",
        """
    with DAG("skipmapped", start_date=START, schedule=None) as dag:
        @task.branch
        def choose():
            return "other"

        @task
        def each(x):
            touch("each")

        @task
        def other():
            return "o"

        c = choose()
        c >> [each.expand(x=[1, 2]), other()]
    """,
    )
    assert runs.states("skipmapped") == {"choose": "success", "each": "skipped", "other": "success"}
    assert runs.scratch_text("each") == ""
