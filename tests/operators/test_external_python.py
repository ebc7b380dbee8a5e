"""ExternalPythonOperator / @task.external_python run the function in another interpreter; the
virtualenv, docker and kubernetes flavours fail at DAG import, saying what to use instead."""

from __future__ import annotations

import shutil
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.operators.helpers import run_task
from tests.runs.conftest import Runs, runs
from updraft import DAG, task
from updraft.core.dagbag import load_dagbag
from updraft.operators import (
    BranchPythonVirtualenvOperator,
    EmptyOperator,
    ExternalPythonOperator,
    NotSupportedByUpdraft,
    PythonVirtualenvOperator,
)
from updraft.operators.external_python import callable_source
from updraft.sdk.exceptions import UpdraftException, UpdraftSkipException

__all__ = ["runs"]

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
#: Another interpreter, without updraft, when the machine has one; else this one (another process).
OTHER_PYTHON = shutil.which("python3", path="/usr/bin") or sys.executable


def describe(a, b, *, scale=1, ds=None, logical_date=None, params=None):  # type: ignore[no-untyped-def]
    import sys

    return {
        "sum": (a + int(b)) * scale,
        "ds": ds,
        "logical_date": logical_date,
        "params": params,
        "executable": sys.executable,
        "has_updraft": "updraft" in sys.modules,
    }


def fails():  # type: ignore[no-untyped-def]
    raise RuntimeError("the data is bad")


def exits_with_3():  # type: ignore[no-untyped-def]
    import sys

    print("about to stop")
    sys.exit(3)


def reads_string_args_and_env():  # type: ignore[no-untyped-def]
    import os

    return virtualenv_string_args, os.environ.get("GREETING")  # type: ignore[name-defined]  # noqa: F821


def wants_ti(ti):  # type: ignore[no-untyped-def]
    return ti


def _task(**kwargs: object) -> ExternalPythonOperator:
    with DAG("ext", start_date=START, schedule=None, params={"limit": 5}) as dag:
        ExternalPythonOperator(task_id="ext", **{"python": OTHER_PYTHON, **kwargs})
    return dag.task_dict["ext"]  # type: ignore[return-value]


def test_runs_the_function_in_the_other_interpreter_with_args_and_context() -> None:
    outcome = run_task(
        _task(python_callable=describe, op_args=[1, "{{ ds_nodash }}"], op_kwargs={"scale": 10})
    )
    result = outcome.result
    assert result["sum"] == (1 + 20240305) * 10  # op_args are templated
    assert result["ds"] == "2024-03-05"
    assert result["logical_date"] == datetime(2024, 3, 5, 6, 7, 8, tzinfo=timezone.utc)
    assert result["params"] == {"limit": 5}
    assert result["executable"] == OTHER_PYTHON
    assert result["has_updraft"] is False


def test_string_args_env_vars_and_inherit_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREETING", "from the worker")
    base = {"python_callable": reads_string_args_and_env, "string_args": ["a b", "c"]}
    assert run_task(_task(**base)).result == (["a b", "c"], "from the worker")
    assert run_task(_task(**base, env_vars={"GREETING": "set"})).result == (["a b", "c"], "set")
    assert run_task(_task(**base, inherit_env=False)).result == (["a b", "c"], None)


def test_a_failing_function_fails_the_task_with_its_error() -> None:
    with pytest.raises(
        UpdraftException, match=r"fails\(\) failed in .*exit code 1\): RuntimeError: the data is bad"
    ):
        run_task(_task(python_callable=fails))


def test_skip_on_exit_code() -> None:
    with pytest.raises(UpdraftSkipException, match="exited with code 3"):
        run_task(_task(python_callable=exits_with_3, skip_on_exit_code=3))
    with pytest.raises(UpdraftException, match=r"exit code 3\)[\s\S]*about to stop"):
        run_task(_task(python_callable=exits_with_3, skip_on_exit_code=[4]))


def test_invalid_setups_are_reported_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be a function defined with def"):
        _task(python_callable=lambda: 1)
    with pytest.raises(ValueError, match="use_airflow_context is not supported by Updraft"):
        _task(python_callable=describe, use_airflow_context=True)
    with pytest.raises(ValueError, match="serializer must be one of"):
        _task(python_callable=describe, serializer="json")
    with pytest.raises(ValueError, match="must be an absolute path"):
        run_task(_task(python_callable=fails, python="python3"))
    with pytest.raises(ValueError, match="does not exist"):
        run_task(_task(python_callable=fails, python=str(tmp_path / "bin" / "python")))
    with pytest.raises(UpdraftException, match="asks for the context value 'ti'"):
        run_task(_task(python_callable=wants_ti))


def test_callable_source_drops_decorators() -> None:
    namespace: dict[str, object] = {}
    source = textwrap.dedent(
        """
        def deco(**kwargs):
            return lambda f: f

        @deco(
            python="/x",
        )
        def work(x):
            return x * 2
        """
    )
    path = Path(__file__).parent / "_external_python_sample.py"
    path.write_text(source)
    try:
        exec(compile(source, str(path), "exec"), namespace)
        import linecache

        linecache.checkcache(str(path))
        text = callable_source(namespace["work"])  # type: ignore[arg-type]
    finally:
        path.unlink()
    assert text == "def work(x):\n    return x * 2\n"


def test_task_external_python_and_branch_in_a_real_run(runs: Runs) -> None:
    runs.run(
        "external",
        f"""
    import sys

    PYTHON = {OTHER_PYTHON!r}

    with DAG("external", start_date=START, schedule=None) as dag:
        @task.external_python(python=PYTHON)
        def add(a, b, ds=None):
            import sys
            return {{"total": a + b, "ds": ds, "updraft": "updraft" in sys.modules}}

        @task.branch_external_python(python=PYTHON)
        def pick(result):
            return "big" if result["total"] > 10 else "small"

        @task
        def check(result):
            touch("result.txt", repr(result))

        total = add(4, 8)
        pick(total) >> [EmptyOperator(task_id="big"), EmptyOperator(task_id="small")]
        check(total)
    """,
    )
    assert runs.states("external") == {
        "add": "success",
        "pick": "success",
        "check": "success",
        "big": "success",
        "small": "skipped",
    }
    assert runs.scratch_text("result.txt").strip() == repr(
        {"total": 12, "ds": "2024-03-05", "updraft": False}
    )


@pytest.mark.parametrize(
    ("operator", "advice"),
    [
        (
            PythonVirtualenvOperator,
            "install the requirements in Updraft's environment and use PythonOperator",
        ),
        (BranchPythonVirtualenvOperator, "use BranchPythonOperator"),
    ],
)
def test_virtualenv_operators_fail_at_construction(operator: type, advice: str) -> None:
    with (
        pytest.raises(
            NotSupportedByUpdraft, match=f"{operator.__name__} is not supported by Updraft"
        ) as error,
        DAG("venv", start_date=START, schedule=None),
    ):
        operator(task_id="in_venv", python_callable=fails, requirements=["pandas"])
    assert advice in str(error.value)
    assert "(task 'in_venv' in DAG 'venv')" in str(error.value)


@pytest.mark.parametrize("name", ["virtualenv", "branch_virtualenv", "docker", "kubernetes", "pyspark"])
def test_unsupported_flavours_fail_when_used(name: str) -> None:
    flavour = getattr(task, name)  # no AttributeError
    with pytest.raises(NotSupportedByUpdraft, match=rf"@task\.{name} is not supported by Updraft"):
        flavour(image="python:3.12")
    with pytest.raises(NotSupportedByUpdraft, match=rf"@task\.{name} is not supported by Updraft"):
        flavour(fails)
    with pytest.raises(AttributeError, match=r"there is no @task\.nonsense decorator"):
        task.nonsense  # noqa: B018


def test_an_unsupported_operator_is_an_import_error_of_the_dag_file(tmp_path: Path) -> None:
    (tmp_path / "venv_dag.py").write_text(
        textwrap.dedent(
            """
            from datetime import datetime
            from updraft import DAG, task
            from updraft.operators import PythonVirtualenvOperator

            with DAG("venv_dag", start_date=datetime(2024, 1, 1), schedule=None):
                @task.virtualenv(requirements=["pandas==2.2.0"])
                def crunch():
                    import pandas
            """
        )
    )
    bag = load_dagbag([tmp_path])
    message = bag.import_errors[str(tmp_path / "venv_dag.py")]
    assert "@task.virtualenv is not supported by Updraft (in DAG 'venv_dag')" in message
    assert "@task.external_python(python=...)" in message
    assert "AttributeError" not in message


def test_empty_operator_is_still_importable_next_to_them() -> None:
    assert EmptyOperator.__name__ == "EmptyOperator"
