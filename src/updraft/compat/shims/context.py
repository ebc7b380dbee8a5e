"""The task context's type, and the DAG-parsing context that dynamic DAG files ask for."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

# Airflow's Context is a TypedDict; a DAG file uses it as an annotation, so a dict type serves.
Context = dict[str, Any]


class AirflowParsingContext(NamedTuple):
    """Which DAG and task the current parse is for; both None when every DAG is wanted."""

    dag_id: str | None
    task_id: str | None


def get_parsing_context() -> AirflowParsingContext:
    """Updraft parses whole files, so DAG factories must create every DAG: both fields are None
    unless the environment names them (``_AIRFLOW_PARSING_CONTEXT_DAG_ID``/``_TASK_ID``)."""
    return AirflowParsingContext(
        dag_id=os.environ.get("_AIRFLOW_PARSING_CONTEXT_DAG_ID") or None,
        task_id=os.environ.get("_AIRFLOW_PARSING_CONTEXT_TASK_ID") or None,
    )
