"""Jinja templating in real runs: context values, variables, template files, native rendering, errors."""

from __future__ import annotations

import pytest

from tests.runs.conftest import Runs

ECHO_TEMPLATES = """
def echo(templates_dict, **_):
    return templates_dict
"""


def test_context_values_render_as_airflow_defines_them(runs: Runs) -> None:
    runs.run(
        "tpl",
        prelude=ECHO_TEMPLATES,
        body="""
    with DAG("tpl", start_date=START, schedule=None, params={"who": "world"},
             user_defined_macros={"shout": str.upper}) as dag:
        PythonOperator(task_id="t", python_callable=echo, templates_dict={
            "ds": "{{ ds }}", "ds_nodash": "{{ ds_nodash }}", "ts": "{{ ts }}", "ts_nodash": "{{ ts_nodash }}",
            "logical_date": "{{ logical_date }}", "year": "{{ logical_date.year }}",
            "dis": "{{ data_interval_start }}", "die": "{{ data_interval_end }}",
            "params": "{{ params.who }}", "dag_run_conf": "{{ dag_run.conf['k'] }}",
            "config": "{{ conf.get('core', 'max_map_length') }}",
            "ds_add": "{{ macros.ds_add(ds, 7) }}", "run_id": "{{ run_id }}", "dag": "{{ dag.dag_id }}",
            "task": "{{ task.task_id }}", "try": "{{ ti.try_number }}", "macro": "{{ shout(params.who) }}",
            "filter": "{{ logical_date | ds }}", "key": "{{ task_instance_key_str }}",
        })
    """,
        conf={"k": "from-conf"},
    )
    assert runs.xcoms("tpl")[("t", -1, "return_value")] == {
        "ds": "2024-03-05",
        "ds_nodash": "20240305",
        "ts": "2024-03-05T06:07:08+00:00",
        "ts_nodash": "20240305T060708",
        "logical_date": "2024-03-05 06:07:08+00:00",
        "year": "2024",
        # A manual run of a DAG without a data-interval timetable: the interval is the logical date.
        "dis": "2024-03-05 06:07:08+00:00",
        "die": "2024-03-05 06:07:08+00:00",
        "params": "world",
        "dag_run_conf": "from-conf",
        "config": "1024",
        "ds_add": "2024-03-12",
        "run_id": "manual__2024-03-05T06:07:08+00:00",
        "dag": "tpl",
        "task": "t",
        "try": "1",
        "macro": "WORLD",
        "filter": "2024-03-05",
        "key": "tpl__t__20240305",
    }


def test_data_interval_of_a_cron_data_interval_timetable(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    """With cron data intervals, a manual run covers the last complete interval before it."""
    monkeypatch.setenv("UPDRAFT__SCHEDULER__CREATE_CRON_DATA_INTERVALS", "True")
    runs.run(
        "interval",
        prelude=ECHO_TEMPLATES,
        body="""
    with DAG("interval", start_date=START, schedule="@daily") as dag:
        PythonOperator(task_id="t", python_callable=echo, templates_dict={
            "start": "{{ data_interval_start }}", "end": "{{ data_interval_end }}", "ds": "{{ ds }}",
        })
    """,
    )
    assert runs.xcoms("interval")[("t", -1, "return_value")] == {
        "start": "2024-03-04 00:00:00+00:00",
        "end": "2024-03-05 00:00:00+00:00",
        "ds": "2024-03-05",
    }


def test_variables_from_the_environment_and_from_the_db(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    from updraft.core.runtime.dag_test import prepare_engine
    from updraft.core.variables import set_variable

    prepare_engine()
    set_variable("from_db", "stored")
    set_variable("settings", {"region": "eu"}, serialize_json=True)
    set_variable("shadowed", "db value")
    monkeypatch.setenv("UPDRAFT_VAR_GREETING", "hello")
    monkeypatch.setenv("UPDRAFT_VAR_SHADOWED", "env value")
    runs.run(
        "vars",
        prelude=ECHO_TEMPLATES,
        body="""
    with DAG("vars", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="t", python_callable=echo, templates_dict={
            "env": "{{ var.value.greeting }}", "db": "{{ var.value.from_db }}",
            "json": "{{ var.json.settings.region }}", "env_wins": "{{ var.value.shadowed }}",
            "default": "{{ var.value.get('missing', 'fallback') }}",
        })
    """,
    )
    assert runs.xcoms("vars")[("t", -1, "return_value")] == {
        "env": "hello",
        "db": "stored",
        "json": "eu",
        "env_wins": "env value",
        "default": "fallback",
    }


def test_a_missing_variable_fails_the_task_naming_it(runs: Runs) -> None:
    runs.run(
        "vars",
        prelude=ECHO_TEMPLATES,
        body="""
    with DAG("vars", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="t", python_callable=echo, templates_dict={"x": "{{ var.value.nope }}"})
    """,
    )
    assert runs.states("vars") == {"t": "failed"}
    error = runs.history("vars", "t")[0]["error"]
    assert "'nope'" in error and "'templates_dict'" in error


def test_template_files_from_the_dag_folder_and_the_search_path(runs: Runs) -> None:
    (runs.folder / "greet.sh").write_text("echo {{ params.who }} {{ ds }}\n")
    extra = runs.scratch / "templates"
    extra.mkdir()
    (extra / "other.sh").write_text("echo other {{ ds_nodash }}\n")
    (extra / "query.txt").write_text("SELECT * FROM t WHERE ds = '{{ ds }}'")
    result = runs.run(
        "files",
        prelude=ECHO_TEMPLATES,
        body="""
    with DAG("files", start_date=START, schedule=None, params={"who": "world"},
             template_searchpath=[f"{TMP}/templates"]) as dag:
        BashOperator(task_id="greet", bash_command="greet.sh")
        BashOperator(task_id="other", bash_command="other.sh")
        PythonOperator(task_id="query", python_callable=echo, templates_dict={"q": "query.txt"},
                       templates_exts=[".txt"])
    """,
    )
    assert result.state == "success", [r.error for r in result.records]
    xcoms = runs.xcoms("files")
    assert xcoms[("greet", -1, "return_value")] == "world 2024-03-05"
    assert xcoms[("other", -1, "return_value")] == "other 20240305"
    assert xcoms[("query", -1, "return_value")] == {"q": "SELECT * FROM t WHERE ds = '2024-03-05'"}
    rendered = runs.tis("files")["greet"].rendered_fields
    assert rendered["bash_command"] == "echo world 2024-03-05"


@pytest.mark.parametrize("native", [True, False])
def test_render_template_as_native_obj(runs: Runs, native: bool) -> None:
    runs.run(
        "native",
        body=f"""
    with DAG("native", start_date=START, schedule=None, params={{"n": 3}},
             render_template_as_native_obj={native}) as dag:
        def kinds(n, xs):
            touch("kinds", f"{{type(n).__name__}} {{type(xs).__name__}} {{n!r}} {{xs!r}}")

        PythonOperator(task_id="t", python_callable=kinds,
                       op_kwargs={{"n": "{{{{ params.n }}}}", "xs": "{{{{ [1, 2] }}}}"}})
    """,
    )
    expected = "int list 3 [1, 2]" if native else "str str '3' '[1, 2]'"
    assert runs.scratch_text("kinds") == expected + "\n"


def test_a_template_error_fails_the_task_naming_task_field_and_line(runs: Runs) -> None:
    result = runs.run(
        "broken",
        body="""
    with DAG("broken", start_date=START, schedule=None) as dag:
        BashOperator(task_id="bad", bash_command="echo fine\\necho {{ no_such_thing }}\\n", retries=1,
                     retry_delay=0)
        BashOperator(task_id="syntax", bash_command="echo {{ ds ")
    """,
    )
    assert runs.states("broken") == {"bad": "failed", "syntax": "failed"}
    errors = [h["error"] for h in runs.history("broken", "bad")]
    assert len(errors) == 2  # a render error is an ordinary, retriable failure of the try
    error = errors[-1]
    assert error.startswith("TemplateRenderError: ")
    assert "'bad'" in error and "'bash_command'" in error and "line 2" in error and "no_such_thing" in error
    syntax = runs.history("broken", "syntax")[0]["error"]
    assert "'syntax'" in syntax and "'bash_command'" in syntax and "syntax error" in syntax
    assert runs.tis("broken")["bad"].rendered_fields is None
    assert {r.task_id: r.error for r in result.records}["bad"] == error


def test_rendered_fields_are_stored_per_task_instance(runs: Runs) -> None:
    runs.run(
        "rendered",
        body="""
    with DAG("rendered", start_date=START, schedule=None, params={"table": "events"}) as dag:
        BashOperator(task_id="b", bash_command="echo {{ params.table }}_{{ ds_nodash }}",
                     env={"DAY": "{{ ds }}"}, append_env=True)
        PythonOperator(task_id="p", python_callable=ok, op_args=["{{ ds }}"], op_kwargs={"n": "{{ 1 + 1 }}"})
    """,
    )
    tis = runs.tis("rendered")
    assert tis["b"].rendered_fields == {
        "bash_command": "echo events_20240305",
        "env": {"DAY": "2024-03-05"},
        "cwd": None,
    }
    assert tis["p"].rendered_fields == {
        "templates_dict": None,
        "op_args": ["2024-03-05"],
        "op_kwargs": {"n": "2"},
    }
    assert runs.xcoms("rendered")[("b", -1, "return_value")] == "events_20240305"
