"""PythonOperator: context by signature (Airflow 2 and 3 styles), op_args/op_kwargs, templates_dict."""

from __future__ import annotations

from typing import Any

import pytest

from tests.operators.helpers import run_task
from updraft.operators.python import PythonOperator, determine_kwargs
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import UpdraftException


def make_dag() -> DAG:
    return DAG("py_dag", schedule=None, params={"size": 3})


def test_op_args_and_op_kwargs_are_rendered_and_passed() -> None:
    def add(a: str, b: str, *, sep: str) -> str:
        return f"{a}{sep}{b}"

    with make_dag():
        op = PythonOperator(
            task_id="add",
            python_callable=add,
            op_args=["{{ ds }}", "{{ params.size }}"],
            op_kwargs={"sep": "{{ '|' }}"},
        )
    assert run_task(op).result == "2024-03-05|3"


def test_context_style_airflow2_kwargs() -> None:
    seen: dict[str, Any] = {}

    def callable_(**kwargs: Any) -> None:
        seen.update(kwargs)

    with make_dag():
        op = PythonOperator(task_id="t", python_callable=callable_, op_kwargs={"extra": 1})
    outcome = run_task(op)
    assert seen["ti"] is outcome.ti
    assert seen["ds"] == "2024-03-05"
    assert seen["extra"] == 1
    assert seen["templates_dict"] is None
    assert seen["params"] == {"size": 3}


def test_context_style_airflow3_context() -> None:
    def callable_(**context: Any) -> str:
        return f"{context['task'].task_id}:{context['dag_run'].run_id}"

    with make_dag():
        op = PythonOperator(task_id="t", python_callable=callable_)
    outcome = run_task(op)
    assert outcome.result == f"t:{outcome.context['run_id']}"


def test_context_by_named_parameters() -> None:
    def callable_(ti, ds, params, other=5):  # type: ignore[no-untyped-def]
        return (ti.task_id, ds, params["size"], other)

    with make_dag():
        op = PythonOperator(task_id="t", python_callable=callable_)
    assert run_task(op).result == ("t", "2024-03-05", 3, 5)


def test_explicit_op_kwargs_win_over_context() -> None:
    def callable_(ds: str) -> str:
        return ds

    with make_dag():
        op = PythonOperator(task_id="t", python_callable=callable_, op_kwargs={"ds": "mine"})
    assert run_task(op).result == "mine"


def test_positional_arg_named_like_a_context_key_is_an_error() -> None:
    def callable_(ds: str) -> str:
        return ds

    with make_dag():
        op = PythonOperator(task_id="t", python_callable=callable_, op_args=["x"])
    with pytest.raises(ValueError, match="'ds' in args"):
        run_task(op)


def test_templates_dict_rendered_and_passed() -> None:
    def callable_(templates_dict: dict[str, Any], **context: Any) -> Any:
        assert "templates_dict" not in context  # bound to the named parameter
        assert context["ti"].task_id == "t"
        return templates_dict["query"]

    with make_dag():
        op = PythonOperator(
            task_id="t",
            python_callable=callable_,
            templates_dict={"query": "select {{ params.size }} -- {{ ds_nodash }}"},
        )
    assert run_task(op).result == "select 3 -- 20240305"


def test_templates_exts_loads_files(tmp_path: Any) -> None:
    (tmp_path / "q.sql").write_text("select '{{ ds }}'")
    with DAG("files", schedule=None, template_searchpath=str(tmp_path)):
        op = PythonOperator(
            task_id="t",
            python_callable=lambda templates_dict: templates_dict["q"],
            templates_dict={"q": "q.sql"},
            templates_exts=[".sql"],
        )
    assert run_task(op).result == "select '2024-03-05'"


def test_generator_callable_returns_its_return_value() -> None:
    def gen():  # type: ignore[no-untyped-def]
        yield 1
        return "done"

    with make_dag():
        op = PythonOperator(task_id="t", python_callable=gen)
    assert run_task(op).result == "done"


def test_async_callable_is_awaited() -> None:
    async def work(x: int) -> int:
        return x * 2

    with make_dag():
        op = PythonOperator(task_id="t", python_callable=work, op_args=[21])
    assert run_task(op).result == 42


def test_not_callable_is_rejected() -> None:
    with make_dag(), pytest.raises(UpdraftException, match="must be callable"):
        PythonOperator(task_id="t", python_callable="nope")  # type: ignore[arg-type]


def test_determine_kwargs_filters_by_signature() -> None:
    def f(a, b=None, *, c=None):  # type: ignore[no-untyped-def]
        return a

    assert determine_kwargs(f, [1], {"b": 2, "c": 3, "d": 4}) == {"b": 2, "c": 3}

    def g(a, **kw):  # type: ignore[no-untyped-def]
        return a

    mapping = {"x": 1}
    assert determine_kwargs(g, [1], mapping) is mapping


def test_default_args_fill_operator_arguments() -> None:
    with DAG("defaults", schedule=None, default_args={"retries": 4, "show_return_value_in_logs": False}):
        op = PythonOperator(task_id="t", python_callable=lambda: 1)
    assert op.retries == 4
    assert op.show_return_value_in_logs is False


def test_async_callable_is_awaited_even_inside_a_running_event_loop() -> None:
    import asyncio
    import logging

    from updraft.operators.python import run_callable

    async def work(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    async def caller() -> int:  # e.g. a task tested from a notebook or an async harness
        return int(run_callable(work, [21], {}, logging.getLogger("test")))

    assert asyncio.run(caller()) == 42
