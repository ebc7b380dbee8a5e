"""Trigger rules in real runs: every rule against mixes of upstream states, propagation, run state."""

from __future__ import annotations

import pytest

from tests.runs.conftest import Runs

#: Producers of each upstream state: s* succeed, f* fail, k* skip, u* are upstream_failed.
PRODUCERS = """
with DAG("{dag_id}", start_date=START, schedule=None) as dag:
    def skip(**_):
        raise UpdraftSkipException("not today")

    s1, s2 = (PythonOperator(task_id=t, python_callable=ok) for t in ("s1", "s2"))
    f1, f2 = (PythonOperator(task_id=t, python_callable=fail) for t in ("f1", "f2"))
    k1, k2 = (PythonOperator(task_id=t, python_callable=skip) for t in ("k1", "k2"))
    u1 = EmptyOperator(task_id="u1")
    u2 = EmptyOperator(task_id="u2")
    f1 >> u1
    f2 >> u2
    producers = dict(s1=s1, s2=s2, f1=f1, f2=f2, k1=k1, k2=k2, u1=u1, u2=u2)
"""

#: Upstream mixes: name -> the two producers a task of the mix depends on.
MIXES = {
    "SS": ("s1", "s2"),
    "SF": ("s1", "f1"),
    "SK": ("s1", "k1"),
    "SU": ("s1", "u1"),
    "FF": ("f1", "f2"),
    "FK": ("f1", "k1"),
    "FU": ("f1", "u1"),
    "KK": ("k1", "k2"),
    "KU": ("k1", "u1"),
}

OK, SKIP, UF = "success", "skipped", "upstream_failed"
#: Airflow's outcome for each rule and upstream mix, written out by hand from the documentation
#: ("Trigger Rules") and ``trigger_rule_dep.py``; "success" means the task ran.
EXPECTED = {
    #                            SS    SF    SK    SU    FF    FK    FU    KK    KU
    "all_success":               (OK,   UF,   SKIP, UF,   UF,   UF,   UF,   SKIP, UF),
    "all_failed":                (SKIP, SKIP, SKIP, SKIP, OK,   SKIP, OK,   SKIP, SKIP),
    "all_done":                  (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK),
    "all_done_min_one_success":  (OK,   OK,   SKIP, OK,   UF,   SKIP, UF,   SKIP, SKIP),
    "all_skipped":               (SKIP, SKIP, SKIP, SKIP, SKIP, SKIP, SKIP, OK,   SKIP),
    "one_success":               (OK,   OK,   OK,   OK,   UF,   UF,   UF,   SKIP, UF),
    "one_failed":                (SKIP, OK,   SKIP, OK,   OK,   OK,   OK,   SKIP, OK),
    "one_done":                  (OK,   OK,   OK,   OK,   OK,   OK,   OK,   SKIP, SKIP),
    "none_failed":               (OK,   UF,   OK,   UF,   UF,   UF,   UF,   OK,   UF),
    "none_failed_min_one_success": (OK, UF,   OK,   UF,   UF,   UF,   UF,   SKIP, UF),
    "none_skipped":              (OK,   OK,   SKIP, OK,   OK,   SKIP, OK,   SKIP, SKIP),
    "always":                    (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK),
}  # fmt: skip


def test_every_rule_against_every_upstream_mix(runs: Runs) -> None:
    body = (
        PRODUCERS.format(dag_id="rules")
        + f"""
    for rule in {sorted(EXPECTED)!r}:
        for mix, (a, b) in {MIXES!r}.items():
            t = PythonOperator(task_id=f"{{rule}}__{{mix}}", python_callable=ok, trigger_rule=rule)
            [producers[a], producers[b]] >> t
"""
    )
    result = runs.run("rules", body)
    states = runs.states("rules")
    assert {k: states[k] for k in MIXES["SF"] + MIXES["KU"]} == {
        "s1": "success",
        "f1": "failed",
        "k1": "skipped",
        "u1": "upstream_failed",
    }
    wrong = []
    for rule, outcomes in EXPECTED.items():
        for mix, want in zip(MIXES, outcomes):
            got = states[f"{rule}__{mix}"]
            if got != want:
                wrong.append(f"{rule} with {mix}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)
    # A task that never ran has no try; one that ran has exactly one.
    tis = runs.tis("rules")
    assert tis["all_done__SF"].try_number == 1
    assert tis["all_success__SF"].try_number == 0
    assert result.state == "failed"


def test_one_success_and_one_failed_do_not_wait_for_every_upstream(runs: Runs) -> None:
    """The fast rules fire as soon as one upstream settles: here before the slow upstream starts."""
    runs.run(
        "fast",
        """
    with DAG("fast", start_date=START, schedule=None,
             default_args={"weight_rule": "absolute"}) as dag:
        good = PythonOperator(task_id="good", python_callable=ok, priority_weight=10)
        bad = PythonOperator(task_id="bad", python_callable=fail, priority_weight=9)
        # `slow` waits for a root of its own, so (running in waves, as Airflow's `dags test` does)
        # it is ready together with the fast rules and, by priority, starts after them.
        warmup = PythonOperator(task_id="warmup", python_callable=ok, priority_weight=1)
        slow = PythonOperator(task_id="slow", python_callable=ok, priority_weight=1)
        warmup >> slow
        one_success = PythonOperator(task_id="one_success", python_callable=ok,
                                     trigger_rule="one_success", priority_weight=5)
        one_failed = PythonOperator(task_id="one_failed", python_callable=ok,
                                    trigger_rule="one_failed", priority_weight=5)
        strict = PythonOperator(task_id="strict", python_callable=ok, priority_weight=5)
        [good, slow] >> one_success
        [bad, slow] >> one_failed
        [bad, slow] >> strict
    """,
    )
    tis = runs.tis("fast")
    assert {k: v.state for k, v in tis.items()} == {
        "good": "success",
        "bad": "failed",
        "warmup": "success",
        "slow": "success",
        "one_success": "success",
        "one_failed": "success",
        "strict": "upstream_failed",
    }
    slow_start = tis["slow"].start_date
    assert tis["one_success"].end_date <= slow_start
    assert tis["one_failed"].end_date <= slow_start
    assert tis["strict"].end_date <= slow_start  # upstream_failed is set without waiting


def test_skips_propagate_through_a_chain_until_a_tolerant_rule(runs: Runs) -> None:
    runs.run(
        "skips",
        """
    with DAG("skips", start_date=START, schedule=None) as dag:
        def skip(**_):
            raise UpdraftSkipException()

        k = PythonOperator(task_id="k", python_callable=skip)
        a = PythonOperator(task_id="a", python_callable=ok)
        b = PythonOperator(task_id="b", python_callable=ok)
        c = PythonOperator(task_id="c", python_callable=ok, trigger_rule="none_failed")
        d = PythonOperator(task_id="d", python_callable=ok)
        e = PythonOperator(task_id="e", python_callable=ok, trigger_rule="none_skipped")
        k >> a >> b >> c >> d
        b >> e
    """,
    )
    assert runs.states("skips") == {
        "k": "skipped",
        "a": "skipped",
        "b": "skipped",
        "c": "success",
        "d": "success",
        "e": "skipped",
    }


def test_upstream_failed_propagates_through_a_chain_until_all_done(runs: Runs) -> None:
    result = runs.run(
        "failures",
        """
    with DAG("failures", start_date=START, schedule=None) as dag:
        f = PythonOperator(task_id="f", python_callable=fail)
        a = PythonOperator(task_id="a", python_callable=ok)
        b = PythonOperator(task_id="b", python_callable=ok, trigger_rule="none_failed")
        cleanup = PythonOperator(task_id="cleanup", python_callable=ok, trigger_rule="all_done")
        after = PythonOperator(task_id="after", python_callable=ok)
        f >> a >> b >> cleanup >> after
    """,
    )
    assert runs.states("failures") == {
        "f": "failed",
        "a": "upstream_failed",
        "b": "upstream_failed",
        "cleanup": "success",
        "after": "success",
    }
    # The only leaf succeeded, so the run succeeded although a task failed (Airflow's rule).
    assert result.state == "success"
    assert runs.dag_runs("failures")[0]["state"] == "success"


@pytest.mark.parametrize(
    ("leaves", "run_state"),
    [
        ({"a": "ok"}, "success"),
        ({"a": "ok", "b": "skip"}, "success"),
        ({"a": "skip", "b": "skip"}, "success"),
        ({"a": "ok", "b": "fail"}, "failed"),
        ({"a": "ok", "b": "after_failure"}, "failed"),
    ],
    ids=["all-success", "success-and-skipped", "all-skipped", "failed-leaf", "upstream-failed-leaf"],
)
def test_run_state_follows_the_leaves(runs: Runs, leaves: dict[str, str], run_state: str) -> None:
    """Success when every leaf succeeded or was skipped; a failed task that is not a leaf (``broken``,
    followed by an all_done ``cleanup`` leaf) does not fail the run."""
    body = """
    with DAG("leaves", start_date=START, schedule=None) as dag:
        def skip(**_):
            raise UpdraftSkipException()

        root = PythonOperator(task_id="root", python_callable=ok)
        broken = PythonOperator(task_id="broken", python_callable=fail, trigger_rule="always")
        kinds = {"ok": ok, "skip": skip, "fail": fail}
    """
    for task_id, kind in leaves.items():
        if kind == "after_failure":
            body += f"    broken >> EmptyOperator(task_id={task_id!r})\n"
        else:
            body += f"    root >> PythonOperator(task_id={task_id!r}, python_callable=kinds[{kind!r}])\n"
    if "after_failure" not in leaves.values():
        body += "    broken >> EmptyOperator(task_id='cleanup', trigger_rule='all_done')\n"
    result = runs.run("leaves", body)
    states = runs.states("leaves")
    assert states["broken"] == "failed"
    assert states.get("cleanup", "success") == "success"
    assert result.state == run_state
    assert runs.dag_runs("leaves")[0]["state"] == run_state
    assert runs.dag_runs("leaves")[0]["end_date"] is not None
