"""``updraft.core.trigger_rules.evaluate`` against Airflow's trigger-rule semantics, exhaustively.

``airflow_verdict`` below is an independent transcription of Airflow's
``airflow/ti_deps/deps/trigger_rule_dep.py`` (``_evaluate_direct_relatives`` for an unmapped task
without setup tasks, scheduler mode ``flag_upstream_failed=True``): first the state a task is
moved to before running (skipped / upstream_failed), then whether the rule passes. Every
combination of up to four upstream states is checked for every rule, and a readable table of the
documented cases ("Trigger Rules" in Airflow's DAG concepts) pins the meaning of each rule.
"""

from __future__ import annotations

import itertools

import pytest

from updraft.core.trigger_rules import UpstreamCounts, Verdict, evaluate
from updraft.sdk.states import TaskInstanceState as TI
from updraft.sdk.trigger_rule import TriggerRule as TR

RUN, WAIT, SKIP, UF = Verdict.RUN, Verdict.WAIT, Verdict.SKIP, Verdict.UPSTREAM_FAILED
#: Upstream states a task can see: finished ones, and None for "not finished yet".
UPSTREAM_STATES = (TI.SUCCESS, TI.SKIPPED, TI.FAILED, TI.UPSTREAM_FAILED, TI.REMOVED, None)
ALL_RULES = sorted(set(TR), key=lambda rule: rule.value)


def airflow_verdict(
    rule: TR, upstream: int, success: int, skipped: int, failed: int, upstream_failed: int, removed: int
) -> Verdict:
    """What Airflow's TriggerRuleDep decides for a task with these upstream counts."""
    if upstream == 0 or rule is TR.ALWAYS:
        return RUN
    done = success + skipped + failed + upstream_failed + removed
    upstream_done = done >= upstream
    new_state = None
    if rule is TR.ALL_SUCCESS:
        if upstream_failed or failed:
            new_state = UF
        elif skipped:
            new_state = SKIP
    elif rule is TR.ALL_FAILED:
        if success or skipped:
            new_state = SKIP
    elif rule is TR.ONE_SUCCESS:
        if upstream_done and done == skipped:
            new_state = SKIP
        elif upstream_done and success <= 0:
            new_state = UF
    elif rule is TR.ONE_FAILED:
        if upstream_done and not (failed or upstream_failed):
            new_state = SKIP
    elif rule is TR.ONE_DONE:
        if upstream_done and not (failed or success):
            new_state = SKIP
    elif rule is TR.NONE_FAILED:
        if upstream_failed or failed:
            new_state = UF
    elif rule is TR.NONE_FAILED_MIN_ONE_SUCCESS:
        if upstream_failed or failed:
            new_state = UF
        elif skipped == upstream:
            new_state = SKIP
    elif rule is TR.NONE_SKIPPED:
        if skipped:
            new_state = SKIP
    elif rule is TR.ALL_SKIPPED:
        if success or failed or upstream_failed:
            new_state = SKIP
    elif rule is TR.ALL_DONE_MIN_ONE_SUCCESS:
        if skipped > 0:
            new_state = SKIP
        elif success + failed + upstream_failed + removed >= upstream - skipped and success == 0:
            new_state = UF
    # ALL_DONE_SETUP_SUCCESS only settles early when there are setup tasks; updraft has none.
    if new_state is not None:
        return new_state

    if rule is TR.ONE_SUCCESS:
        passed = success > 0
    elif rule is TR.ONE_FAILED:
        passed = bool(failed or upstream_failed)
    elif rule is TR.ONE_DONE:
        passed = success + failed > 0
    elif rule is TR.ALL_SUCCESS:
        passed = upstream - success <= 0
    elif rule is TR.ALL_FAILED:
        passed = upstream - failed - upstream_failed <= 0
    elif rule in (TR.ALL_DONE, TR.ALL_DONE_SETUP_SUCCESS):
        passed = upstream_done
    elif rule in (TR.NONE_FAILED, TR.NONE_FAILED_MIN_ONE_SUCCESS):
        passed = upstream - success - skipped <= 0
    elif rule is TR.NONE_SKIPPED:
        passed = upstream_done and skipped == 0
    elif rule is TR.ALL_SKIPPED:
        passed = upstream - skipped <= 0
    elif rule is TR.ALL_DONE_MIN_ONE_SUCCESS:
        non_skipped_done = success + failed + upstream_failed + removed
        passed = skipped == 0 and non_skipped_done >= upstream - skipped and success > 0
    else:  # pragma: no cover - every rule is handled above
        raise AssertionError(rule)
    return RUN if passed else WAIT


def _all_upstream_combinations(max_upstreams: int = 4) -> list[tuple[TI | None, ...]]:
    combos: list[tuple[TI | None, ...]] = []
    for size in range(0, max_upstreams + 1):
        combos.extend(itertools.combinations_with_replacement(UPSTREAM_STATES, size))
    return combos


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.value)
def test_every_combination_matches_airflow(rule: TR) -> None:
    mismatches = []
    for states in _all_upstream_combinations():
        counts = UpstreamCounts.from_states(states)
        expected = airflow_verdict(
            rule,
            len(states),
            states.count(TI.SUCCESS),
            states.count(TI.SKIPPED),
            states.count(TI.FAILED),
            states.count(TI.UPSTREAM_FAILED),
            states.count(TI.REMOVED),
        )
        got = evaluate(rule, counts)
        if got is not expected:
            mismatches.append(
                f"{[s.value if s else None for s in states]}: got {got.value}, want {expected.value}"
            )
    assert not mismatches, f"{rule.value}:\n" + "\n".join(mismatches)


def test_the_oracle_covers_many_distinct_cases() -> None:
    """Guard against a vacuous exhaustive test: the combinations reach every verdict."""
    seen = {
        airflow_verdict(
            rule,
            len(states),
            states.count(TI.SUCCESS),
            states.count(TI.SKIPPED),
            states.count(TI.FAILED),
            states.count(TI.UPSTREAM_FAILED),
            states.count(TI.REMOVED),
        )
        for rule in ALL_RULES
        for states in _all_upstream_combinations(2)
    }
    assert seen == {RUN, WAIT, SKIP, UF}
    assert len(_all_upstream_combinations()) == 210


S, K, F, U, N = TI.SUCCESS, TI.SKIPPED, TI.FAILED, TI.UPSTREAM_FAILED, None

#: The documented meaning of each rule, case by case: (rule, upstream states, verdict).
DOCUMENTED = [
    # all_success (default): all upstream tasks have succeeded; a failure or skip propagates.
    (TR.ALL_SUCCESS, (S, S), RUN),
    (TR.ALL_SUCCESS, (S, N), WAIT),
    (TR.ALL_SUCCESS, (F, N), UF),  # does not wait for the rest
    (TR.ALL_SUCCESS, (U, S), UF),
    (TR.ALL_SUCCESS, (K, N), SKIP),  # skip propagation
    (TR.ALL_SUCCESS, (K, F), UF),  # a failure wins over a skip
    # all_failed: all upstream tasks are failed or upstream_failed.
    (TR.ALL_FAILED, (F, U), RUN),
    (TR.ALL_FAILED, (F, N), WAIT),
    (TR.ALL_FAILED, (F, S), SKIP),
    (TR.ALL_FAILED, (K, N), SKIP),
    # all_done: all upstream tasks are done, whatever their state.
    (TR.ALL_DONE, (S, F, K, U), RUN),
    (TR.ALL_DONE, (S, N), WAIT),
    # all_done_min_one_success: all non-skipped upstreams done and at least one succeeded.
    (TR.ALL_DONE_MIN_ONE_SUCCESS, (S, F), RUN),
    (TR.ALL_DONE_MIN_ONE_SUCCESS, (S, U), RUN),
    (TR.ALL_DONE_MIN_ONE_SUCCESS, (S, N), WAIT),
    (TR.ALL_DONE_MIN_ONE_SUCCESS, (F, U), UF),
    (TR.ALL_DONE_MIN_ONE_SUCCESS, (S, K), SKIP),
    # all_skipped: all upstream tasks are skipped.
    (TR.ALL_SKIPPED, (K, K), RUN),
    (TR.ALL_SKIPPED, (K, N), WAIT),
    (TR.ALL_SKIPPED, (K, S), SKIP),
    (TR.ALL_SKIPPED, (F, N), SKIP),
    # one_success: at least one upstream succeeded; does not wait for the others.
    (TR.ONE_SUCCESS, (S, N), RUN),
    (TR.ONE_SUCCESS, (F, N), WAIT),
    (TR.ONE_SUCCESS, (K, K), SKIP),
    (TR.ONE_SUCCESS, (F, K), UF),
    # one_failed: at least one upstream failed (or upstream_failed); does not wait.
    (TR.ONE_FAILED, (F, N), RUN),
    (TR.ONE_FAILED, (U, N), RUN),
    (TR.ONE_FAILED, (S, N), WAIT),
    (TR.ONE_FAILED, (S, K), SKIP),
    # one_done: at least one upstream succeeded or failed.
    (TR.ONE_DONE, (S, N), RUN),
    (TR.ONE_DONE, (F, N), RUN),
    (TR.ONE_DONE, (K, N), WAIT),
    (TR.ONE_DONE, (K, U), SKIP),
    # none_failed: no upstream failed or upstream_failed; skipped counts as fine.
    (TR.NONE_FAILED, (S, K), RUN),
    (TR.NONE_FAILED, (K, K), RUN),
    (TR.NONE_FAILED, (S, N), WAIT),
    (TR.NONE_FAILED, (F, N), UF),
    # none_failed_min_one_success: as none_failed, and at least one succeeded.
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, (S, K), RUN),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, (K, K), SKIP),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, (K, N), WAIT),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, (U, K), UF),
    # none_skipped: no upstream skipped, all done.
    (TR.NONE_SKIPPED, (S, F, U), RUN),
    (TR.NONE_SKIPPED, (S, N), WAIT),
    (TR.NONE_SKIPPED, (K, N), SKIP),
    # always: no dependency at all.
    (TR.ALWAYS, (N, N), RUN),
    (TR.ALWAYS, (F, K), RUN),
]


@pytest.mark.parametrize(
    ("rule", "states", "verdict"),
    DOCUMENTED,
    ids=[
        f"{rule.value}-{'+'.join(s.value if s else 'none' for s in states)}" for rule, states, _ in DOCUMENTED
    ],
)
def test_documented_semantics(rule: TR, states: tuple[TI | None, ...], verdict: Verdict) -> None:
    assert evaluate(rule, UpstreamCounts.from_states(states)) is verdict


def test_documented_table_names_every_rule() -> None:
    assert {rule for rule, _, _ in DOCUMENTED} | {TR.ALL_DONE_SETUP_SUCCESS} == set(TR)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.value)
def test_a_task_without_upstreams_runs(rule: TR) -> None:
    assert evaluate(rule, UpstreamCounts(total=0)) is RUN


def test_counts_from_states_accept_strings_and_ignore_unfinished_states() -> None:
    counts = UpstreamCounts.from_states(
        [
            "success",
            TI.SUCCESS,
            "skipped",
            "failed",
            "upstream_failed",
            "removed",
            None,
            "running",
            "up_for_retry",
        ]
    )
    assert counts == UpstreamCounts(total=9, success=2, skipped=1, failed=1, upstream_failed=1, removed=1)
    assert counts.done == 6


def test_a_task_waits_while_an_upstream_is_up_for_retry() -> None:
    counts = UpstreamCounts.from_states([TI.SUCCESS, TI.UP_FOR_RETRY])
    for rule in (TR.ALL_SUCCESS, TR.ALL_DONE, TR.NONE_FAILED, TR.ONE_FAILED, TR.NONE_SKIPPED):
        assert evaluate(rule, counts) is WAIT, rule
