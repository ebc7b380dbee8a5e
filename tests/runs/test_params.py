"""DAG params and run conf in real runs: defaults, overrides, validation before anything is stored."""

from __future__ import annotations

import json

import pytest

from tests.runs.conftest import Runs
from updraft.sdk.exceptions import ParamValidationError

PARAMS_DAG = """
with DAG("params", start_date=START, schedule=None, params={
    "n": Param(5, type="integer", minimum=1, maximum=10),
    "mode": Param("fast", enum=["fast", "slow"]),
    "name": Param("x", type="string", minLength=1),
    "tags": Param(["a"], type="array", items={"type": "string"}),
    "plain": 1.5,
}) as dag:
    @task
    def show(params=None):
        return dict(params)

    show()
"""


def _params(runs: Runs) -> dict[str, object]:
    return runs.xcoms("params")[("show", -1, "return_value")]


def test_param_defaults_reach_the_task(runs: Runs) -> None:
    runs.run("params", PARAMS_DAG)
    assert _params(runs) == {"n": 5, "mode": "fast", "name": "x", "tags": ["a"], "plain": 1.5}


def test_conf_overrides_defaults_and_adds_keys(runs: Runs) -> None:
    result = runs.run("params", PARAMS_DAG, conf={"n": 10, "mode": "slow", "extra": {"k": [1]}})
    assert _params(runs) == {
        "n": 10,
        "mode": "slow",
        "name": "x",
        "tags": ["a"],
        "plain": 1.5,
        "extra": {"k": [1]},
    }
    assert runs.dag_runs("params")[0]["conf"] == {"n": 10, "mode": "slow", "extra": {"k": [1]}}
    assert result.state == "success"


@pytest.mark.parametrize(
    ("conf", "named"),
    [
        ({"n": 11}, "'n'"),  # over the maximum
        ({"n": 0}, "'n'"),  # under the minimum
        ({"n": "5"}, "'n'"),  # wrong type
        ({"mode": "medium"}, "'mode'"),  # not in the enum
        ({"name": ""}, "'name'"),  # too short
        ({"tags": ["a", 2]}, "'tags'"),  # wrong item type
    ],
    ids=["maximum", "minimum", "type", "enum", "min-length", "items"],
)
def test_invalid_conf_is_rejected_before_a_run_is_created(runs: Runs, conf: dict, named: str) -> None:
    runs.write(PARAMS_DAG)
    with pytest.raises(ParamValidationError, match=named):
        runs.run("params", conf=conf)
    assert runs.dag_runs("params") == []
    assert runs.tis("params") == {}


def test_invalid_conf_does_not_replace_an_existing_run(runs: Runs) -> None:
    runs.run("params", PARAMS_DAG, conf={"n": 7})
    with pytest.raises(ParamValidationError, match="'n'"):
        runs.run("params", conf={"n": 70})
    [run] = runs.dag_runs("params")
    assert (run["state"], run["conf"]) == ("success", {"n": 7})
    assert _params(runs)["n"] == 7


def test_a_required_param_without_a_value_is_an_error(runs: Runs) -> None:
    body = """
    with DAG("required", start_date=START, schedule=None,
             params={"target": Param(type="string", description="where to write")}) as dag:
        @task
        def show(params=None):
            return params["target"]

        show()
    """
    runs.write(body)
    with pytest.raises(ParamValidationError, match="'target'"):
        runs.run("required")
    assert runs.dag_runs("required") == []
    runs.run("required", conf={"target": "s3://bucket"})
    assert runs.xcoms("required")[("show", -1, "return_value")] == "s3://bucket"


def test_task_params_override_dag_params_and_conf_overrides_both(runs: Runs) -> None:
    """Airflow's order: DAG params, then the task's params, then the run's conf."""
    runs.run(
        "layers",
        """
    with DAG("layers", start_date=START, schedule=None, params={"a": "dag", "b": "dag", "c": "dag"}) as dag:
        BashOperator(task_id="t", bash_command="echo {{ params.a }} {{ params.b }} {{ params.c }}",
                     params={"b": "task", "c": "task"})
    """,
        conf={"c": "conf"},
    )
    assert runs.xcoms("layers")[("t", -1, "return_value")] == "dag task conf"


def test_dag_decorator_arguments_are_params(runs: Runs) -> None:
    runs.run(
        "decorated",
        """
    from updraft import dag

    @dag(dag_id="decorated", start_date=START, schedule=None)
    def pipeline(rows: int = 3, label: str = "x"):
        @task
        def make(rows, label):
            return [label] * rows

        make(rows, label)

    pipeline()
    """,
        conf={"rows": 2},
    )
    assert runs.xcoms("decorated")[("make", -1, "return_value")] == ["x", "x"]


def test_cli_rejects_invalid_conf_with_exit_code_2_naming_the_param(runs: Runs) -> None:
    runs.write(PARAMS_DAG)
    done = runs.cli("dags", "test", "params", "2024-03-05", "--conf", json.dumps({"mode": "medium"}))
    assert done.returncode == 2, done.stderr
    assert "'mode'" in done.stderr
    assert runs.dag_runs("params") == []


def test_a_task_param_schema_that_rejects_the_conf_fails_only_that_task(runs: Runs) -> None:
    result = runs.run(
        "task_schema",
        """
    with DAG("task_schema", start_date=START, schedule=None) as dag:
        strict = BashOperator(task_id="strict", bash_command="echo {{ params.n }}",
                              params={"n": Param(1, type="integer")})
        loose = BashOperator(task_id="loose", bash_command="echo {{ params.n }}")
    """,
        conf={"n": "many"},
    )
    assert runs.states("task_schema") == {"strict": "failed", "loose": "success"}
    error = runs.history("task_schema", "strict")[0]["error"]
    assert error.startswith("ParamValidationError: ") and "'n'" in error
    assert runs.xcoms("task_schema")[("loose", -1, "return_value")] == "many"
    assert result.state == "failed"


def test_default_args_params_override_dag_params(runs: Runs) -> None:
    runs.run(
        "dflt",
        """
    with DAG("dflt", start_date=START, schedule=None,
             params={"n": Param(5, type="integer")},
             default_args={"params": {"n": Param("five", type="string")}}) as dag:
        BashOperator(task_id="t", bash_command="echo {{ params.n }}")
    """,
        conf={"n": "six"},
    )
    assert runs.xcoms("dflt")[("t", -1, "return_value")] == "six"
