"""Airflow operators and ``@task`` flavours that updraft does not run, failing clearly at DAG import.

A DAG file that uses one fails when it is parsed (the import error names the file and line) with
:class:`NotSupportedByUpdraft`, which says what to use instead; never with an AttributeError or a
failure only when the task runs. Importing the names alone is harmless.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from updraft.sdk import contexts
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.exceptions import DagDefinitionError

__all__ = [
    "FLAVOUR_ADVICE",
    "BranchPythonVirtualenvOperator",
    "NotSupportedByUpdraft",
    "PythonVirtualenvOperator",
    "unsupported_flavour",
]

_VENV_ADVICE = (
    "install the requirements in Updraft's environment and use {plain}, or create the virtualenv "
    "once and run the function in it with {external}"
)

#: What to use instead of each ``@task.<flavour>`` updraft lacks.
FLAVOUR_ADVICE: dict[str, str] = {
    "virtualenv": _VENV_ADVICE.format(plain="@task", external="@task.external_python(python=...)"),
    "branch_virtualenv": _VENV_ADVICE.format(
        plain="@task.branch", external="@task.branch_external_python(python=...)"
    ),
    "docker": "run the container from @task.bash (docker run ...) or install the code in Updraft's environment",
    "kubernetes": "run the pod from @task.bash (kubectl run ...) or install the code in Updraft's environment",
    "kubernetes_cmd": "run the pod from @task.bash (kubectl run ...)",
    "pyspark": "call spark-submit from @task.bash, or create the SparkSession yourself in @task",
    "snowpark": "open the Snowpark session yourself in @task",
    "run_if": "decide with @task.short_circuit (or a branch) upstream of the task",
    "skip_if": "decide with @task.short_circuit (or a branch) upstream of the task",
}


class NotSupportedByUpdraft(DagDefinitionError):
    """A DAG file uses an Airflow operator or decorator that updraft does not run."""


def _where(task_id: Any) -> str:
    dag = contexts.current_dag()
    parts = [f"task {task_id!r}" if task_id else "", f"in DAG {dag.dag_id!r}" if dag is not None else ""]
    text = " ".join(part for part in parts if part)
    return f" ({text})" if text else ""


def unsupported_flavour(name: str) -> NoReturn:
    """Raise the error for ``@task.<name>``."""
    advice = FLAVOUR_ADVICE.get(name, "use @task")
    raise NotSupportedByUpdraft(f"@task.{name} is not supported by Updraft{_where(None)}: {advice}")


class _Unsupported(BaseOperator):
    advice: ClassVar[str] = ""

    def __init__(self, **kwargs: Any) -> None:
        raise NotSupportedByUpdraft(
            f"{type(self).__name__} is not supported by Updraft{_where(kwargs.get('task_id'))}: {self.advice}"
        )


class PythonVirtualenvOperator(_Unsupported):
    """Not supported: updraft does not build virtualenvs per task."""

    advice = _VENV_ADVICE.format(plain="PythonOperator", external="ExternalPythonOperator(python=...)")


class BranchPythonVirtualenvOperator(_Unsupported):
    """Not supported: updraft does not build virtualenvs per task."""

    advice = _VENV_ADVICE.format(
        plain="BranchPythonOperator", external="BranchExternalPythonOperator(python=...)"
    )
