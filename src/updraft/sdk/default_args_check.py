"""Find ``default_args`` keys that no task of a DAG takes: most often a typo like ``retires``.

Airflow ignores such keys silently, so a misspelt ``retries`` or ``email_on_failure`` quietly
does nothing. Updraft still ignores them (files written for Airflow keep loading) but logs one
warning per key when the DAG file loads, with the closest argument name when one is near.
"""

from __future__ import annotations

import difflib
import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from updraft.sdk.mapping import MappedOperator, operator_parameters

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG

log = logging.getLogger("updraft.dag")

#: Keys the DAG itself reads from default_args, or that Airflow 1 files pass and Airflow ignores.
_DAG_KEYS = frozenset({"start_date", "end_date", "params", "provide_context"})


@lru_cache(maxsize=512)
def _accepted(operator_class: type) -> frozenset[str]:
    return frozenset(operator_parameters(operator_class))


def unused_default_args(dag: DAG) -> dict[str, str | None]:
    """Each default_args key no task takes, with the closest accepted name (or None)."""
    if not dag.default_args or not dag.task_dict:
        return {}
    classes: set[type] = {
        task.operator_class if isinstance(task, MappedOperator) else type(task)
        for task in dag.task_dict.values()
    }
    accepted = set(_DAG_KEYS).union(*(_accepted(cls) for cls in classes))
    unused: dict[str, str | None] = {}
    for key in dag.default_args:
        if key not in accepted:
            close = difflib.get_close_matches(key, sorted(accepted), n=1, cutoff=0.75)
            unused[key] = close[0] if close else None
    return unused


def warn_unused_default_args(dag: DAG) -> list[str]:
    """Log (and return) one warning per default_args key that no task of ``dag`` takes."""
    messages = []
    for key, close in unused_default_args(dag).items():
        hint = f" (did you mean {close!r}?)" if close else ""
        messages.append(
            f"DAG {dag.dag_id!r}: default_args key {key!r} is not an argument of any of its tasks "
            f"and is ignored{hint}"
        )
    for message in messages:
        log.warning("%s", message)
    return messages
