"""Trigger rules: when a task may start, given the states of its direct upstream tasks."""

from __future__ import annotations

from enum import Enum


class TriggerRule(str, Enum):
    """Airflow's trigger rules, with the same names and meanings."""

    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_MIN_ONE_SUCCESS = "all_done_min_one_success"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ALL_SKIPPED = "all_skipped"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"

    # Airflow 2 spelling, kept so old DAG files keep working.
    NONE_FAILED_OR_SKIPPED = "none_failed_min_one_success"
    DUMMY = "always"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def is_valid(cls, value: object) -> bool:
        return value in cls.all_triggers()

    @classmethod
    def all_triggers(cls) -> set[str]:
        return {member.value for member in cls}


def parse_trigger_rule(value: object) -> TriggerRule:
    """Return the TriggerRule for ``value``, or raise ValueError listing the valid names."""
    if isinstance(value, TriggerRule):
        return value
    legacy = {"none_failed_or_skipped": "none_failed_min_one_success", "dummy": "always"}
    if isinstance(value, str):
        try:
            return TriggerRule(legacy.get(value, value))
        except ValueError:
            pass
    valid = ", ".join(sorted(TriggerRule.all_triggers()))
    raise ValueError(f"unknown trigger rule {value!r}; valid rules are: {valid}")
