"""The @task decorator: task creation, ids, XComArg wiring, context injection, mapping, flavours."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, TypedDict  # noqa: UP035 - Dict is part of what is tested

import pytest

from tests.operators.helpers import run_task
from updraft.operators.empty import EmptyOperator
from updraft.operators.taskflow import task
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import DagDefinitionError, UpdraftException
from updraft.sdk.mapping import DictOfListsExpandInput, ListOfDictsExpandInput, MappedOperator
from updraft.sdk.taskgroup import TaskGroup
from updraft.sdk.xcom_arg import PlainXComArg


@task
def double(x: int) -> int:
    """Double a number."""
    return x * 2


@task(retries=2)
def add(x: int, y: int) -> int:
    return x + y


def test_call_in_dag_creates_task_and_returns_xcomarg() -> None:
    with DAG("tf", schedule=None) as dag:
        out = double(3)
    assert isinstance(out, PlainXComArg)
    op: Any = dag.task_dict["double"]
    assert op.op_args == [3]
    assert op.doc_md == "Double a number."
    assert op.operator_name == "@task"
    assert out.operator is dag.task_dict["double"]
    assert run_task(op).result == 6


def test_outside_a_dag_the_function_just_runs() -> None:
    assert double(4) == 8
    assert double.function(5) == 10
    assert add.__name__ == "add"


def test_task_ids_are_made_unique_like_airflow() -> None:
    with DAG("ids", schedule=None) as dag:
        double(1)
        double(2)
        double(3)
        with TaskGroup("grp"):
            double(4)
            double(5)
        double.override(task_id="double__1")(6)
        EmptyOperator(task_id="double__7")
        double(7)
    assert sorted(dag.task_dict) == [
        "double",
        "double__1",
        "double__2",
        "double__3",
        "double__7",
        "double__8",
        "grp.double",
        "grp.double__1",
    ]


def test_override_changes_operator_arguments() -> None:
    with DAG("override", schedule=None) as dag:
        add.override(task_id="plus", retries=5)(1, 2)
        add(1, 2)
    tasks: dict[str, Any] = dag.task_dict
    assert tasks["plus"].retries == 5
    assert tasks["add"].retries == 2
    assert add.override(multiple_outputs=True).multiple_outputs is True
    assert add.multiple_outputs is False
    assert task.python(double.function).operator_class is double.operator_class


def test_xcomarg_arguments_become_dependencies_and_are_resolved() -> None:
    with DAG("wiring", schedule=None) as dag:
        first = double(2)
        total = add(first, y=double(5))
    consumer = total.operator
    assert consumer.upstream_task_ids == {"double", "double__1"}
    xcoms: dict[Any, Any] = {}
    run_task(dag.task_dict["double"], xcoms=xcoms)
    run_task(dag.task_dict["double__1"], xcoms=xcoms)
    assert run_task(consumer, xcoms=xcoms).result == 14


class Point(TypedDict):
    x: int


def test_multiple_outputs_inference() -> None:
    @task
    def plain() -> dict:  # type: ignore[type-arg]
        return {"a": 1}

    @task
    def typed() -> Dict[str, int]:  # noqa: UP006
        return {"a": 1}

    @task
    def builtin() -> dict[str, int]:
        return {"a": 1}

    @task
    def typed_dict() -> Point:
        return {"x": 1}

    @task
    def scalar() -> int:
        return 1

    @task(multiple_outputs=False)
    def forced() -> dict[str, int]:
        return {"a": 1}

    assert [f.multiple_outputs for f in (plain, typed, builtin, typed_dict)] == [True] * 4
    assert scalar.multiple_outputs is False
    assert forced.multiple_outputs is False

    class Local(TypedDict):
        y: int

    with pytest.warns(UserWarning, match="cannot infer multiple_outputs"):

        @task
        def unresolvable() -> Local:
            return {"y": 1}

    assert unresolvable.multiple_outputs is False
    with DAG("outputs", schedule=None) as dag:
        builtin()
    outcome = run_task(dag.task_dict["builtin"])
    assert outcome.ti.xcoms[("builtin", -1, "a")] == 1


def test_context_injection_by_signature_with_explicit_arguments_winning() -> None:
    @task
    def uses_context(x: int, ti: Any = None, ds: str | None = None, params: Any = None) -> Any:
        return (x, ti.task_id, ds, params["p"])

    @task
    def required_ti(ti, ds):  # type: ignore[no-untyped-def]
        return (ti.task_id, ds)

    @task
    def everything(**context: Any) -> Any:
        return sorted(k for k in ("ti", "dag_run", "ds", "mine") if k in context)

    with DAG("ctx", schedule=None, params={"p": 7}) as dag:
        uses_context(1)
        uses_context.override(task_id="explicit")(2, ds="mine")
        required_ti()
        everything(mine=1)
    assert run_task(dag.task_dict["uses_context"]).result == (1, "uses_context", "2024-03-05", 7)
    assert run_task(dag.task_dict["explicit"]).result == (2, "explicit", "mine", 7)
    assert run_task(dag.task_dict["required_ti"]).result == ("required_ti", "2024-03-05")
    assert run_task(dag.task_dict["everything"]).result == ["dag_run", "ds", "mine", "ti"]


def test_missing_arguments_fail_when_the_task_is_created() -> None:
    with DAG("bad", schedule=None), pytest.raises(TypeError, match=r"task 'add'.*'y'"):
        add(1)


def test_default_args_fill_function_arguments() -> None:
    @task
    def greet(name: str, owner: str = "nobody") -> str:
        return f"{name}/{owner}"

    with DAG("defaults", schedule=None, default_args={"name": "dflt", "owner": "ops"}) as dag:
        greet()
    assert run_task(dag.task_dict["greet"]).result == "dflt/ops"


def test_methods_are_rejected() -> None:
    with pytest.raises(TypeError, match="methods"):

        class Holder:
            @task
            def method(self) -> None: ...


def test_partial_expand_creates_mapped_operator() -> None:
    with DAG("mapping", schedule=None) as dag:
        out = add.partial(x=10).expand(y=[1, 2, 3])
        out2 = add.expand(x=[1], y=[2, 3])
    mapped = out.operator
    assert isinstance(mapped, MappedOperator)
    assert mapped.task_id == "add"
    assert out2.operator.task_id == "add__1"
    assert isinstance(mapped.expand_input, DictOfListsExpandInput)
    assert mapped.expand_input.value == {"y": [1, 2, 3]}
    assert mapped.partial_kwargs["op_kwargs"] == {"x": 10}
    assert mapped.retries == 2
    assert dag.task_dict["add"] is mapped
    instance: Any = mapped.unmap({"y": 3})
    assert instance.op_kwargs == {"x": 10, "y": 3}
    assert run_task(instance).result == 13


def test_expand_over_xcomarg_wires_dependency() -> None:
    @task
    def numbers() -> list[int]:
        return [1, 2]

    with DAG("mapping_xcom", schedule=None):
        mapped = double.expand(x=numbers()).operator
    assert mapped.upstream_task_ids == {"numbers"}
    assert [op.task_id for op in mapped.iter_expansion_upstreams()] == ["numbers"]


def test_expand_kwargs() -> None:
    with DAG("mapping_kwargs", schedule=None):
        mapped = add.expand_kwargs([{"x": 1, "y": 2}, {"x": 3, "y": 4}]).operator
    assert isinstance(mapped.expand_input, ListOfDictsExpandInput)
    assert run_task(mapped.unmap({"x": 3, "y": 4})).result == 7


def test_mapping_errors() -> None:
    @task
    def with_ti(x: int, ti: Any = None) -> int:
        return x

    with DAG("mapping_errors", schedule=None):
        with pytest.raises(DagDefinitionError, match="context variable"):
            with_ti.partial().expand(ti=[1])
        with pytest.raises(TypeError, match="unexpected"):
            add.partial(z=1)
        with pytest.raises(DagDefinitionError, match="both"):
            add.partial(x=1).expand(x=[1])
        with pytest.raises(DagDefinitionError, match="cannot expand over 'z'"):
            add.expand(z=[1])


def test_branch_and_short_circuit_flavours() -> None:
    @task.branch
    def choose() -> str:
        return "double"

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def gate() -> bool:
        return False

    with DAG("flavours", schedule=None) as dag:
        left, right = double(1), double(2)
        choose() >> [left, right]
        gate() >> left
    assert getattr(dag.task_dict["choose"], "operator_name") == "@task.branch"  # noqa: B009
    assert run_task(dag.task_dict["choose"]).ti.skipped == {"double__1"}
    assert left.operator.task_id == "double"
    assert run_task(dag.task_dict["gate"]).ti.skipped == {"double"}


def test_bash_flavour_renders_and_runs_the_returned_command(tmp_path: Path) -> None:
    @task.bash
    def say(word: str) -> str:
        return "echo {{ ds }} " + word

    @task.bash(cwd=str(tmp_path))
    def script() -> str:
        return "run.sh"

    @task.bash
    def nothing() -> None:
        return None

    (tmp_path / "run.sh").write_text("echo 'from {{ params.where }}'\n")
    with DAG("bashes", schedule=None, template_searchpath=str(tmp_path), params={"where": "file"}) as dag:
        say("hi")
        script()
        nothing()
    outcome = run_task(dag.task_dict["say"])
    assert outcome.result == "2024-03-05 hi"
    assert outcome.task.bash_command == "echo 2024-03-05 hi"
    assert run_task(dag.task_dict["script"]).result == "from file"
    with pytest.raises(UpdraftException, match="non-empty string"):
        run_task(dag.task_dict["nothing"])


@pytest.mark.parametrize("name", ["virtualenv", "docker", "kubernetes", "branch_virtualenv"])
def test_unsupported_flavours_have_clear_errors(name: str) -> None:
    # More in test_external_python.py (which tests @task.external_python, now supported).
    with pytest.raises(DagDefinitionError, match=rf"@task\.{name} is not supported by Updraft"):
        getattr(task, name)(lambda: None)
