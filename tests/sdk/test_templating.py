"""Templating of task fields: environment, filters, macros, files, native objects, errors, fast path."""

from __future__ import annotations

from collections import namedtuple
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import pytest

from tests.operators.helpers import make_context
from updraft.sdk import templating
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import TemplateRenderError
from updraft.sdk.macros import datetime_diff_for_humans, ds_add, ds_format
from updraft.sdk.xcom_arg import PlainXComArg


class Templated(BaseOperator):
    template_fields: ClassVar[Any] = ("value", "other")
    template_ext: ClassVar[Any] = (".sql",)

    def __init__(self, *, value: Any = None, other: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value
        self.other = other


class Holder:
    """A nested object with its own template fields (Airflow renders these in place)."""

    template_fields = ("text",)

    def __init__(self, text: Any) -> None:
        self.text = text
        self.child: Any = None


def render(value: Any, dag: DAG | None = None, **dag_kwargs: Any) -> Any:
    dag = dag or DAG("tmpl", schedule=None, **dag_kwargs)
    with dag:
        task = Templated(task_id=f"t{len(dag.task_dict)}", value=value)
    context = make_context(task)
    task.render_template_fields(context)
    return task.value


def test_context_values_and_airflow_filters() -> None:
    assert render("{{ ds }} {{ ds_nodash }} {{ ts }}") == ("2024-03-05 20240305 2024-03-05T06:07:08+00:00")
    assert render(
        "{{ logical_date | ds }}|{{ logical_date | ds_nodash }}|{{ logical_date | ts_nodash }}|"
        "{{ logical_date | ts_nodash_with_tz }}|{{ logical_date | ts }}"
    ) == ("2024-03-05|20240305|20240305T060708|20240305T060708+0000|2024-03-05T06:07:08+00:00")
    assert render("{{ none | ds }}") == "None"


def test_macros_namespace() -> None:
    assert render("{{ macros.ds_add(ds, 5) }}") == "2024-03-10"
    assert render("{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%y') }}") == "05/03/24"
    assert render("{{ macros.datetime(2020, 1, 2).year + macros.timedelta(days=1).days }}") == "2021"
    assert render("{{ macros.json.dumps({'a': 1}) }}") == '{"a": 1}'
    assert render("{{ macros.dateutil.parser.parse('2020-01-02').day }}") == "2"
    assert len(render("{{ macros.uuid.uuid4() }}")) == 36
    assert 0 <= float(render("{{ macros.random() }}")) < 1


def test_macro_functions() -> None:
    assert ds_add("2015-01-01", 5) == "2015-01-06"
    assert ds_add("2015-01-06", -5) == "2015-01-01"
    assert ds_add("2015-01-06", 0) == "2015-01-06"
    assert ds_format("1/5/2015", "%m/%d/%Y", "%Y-%m-%d") == "2015-01-05"
    now = datetime.now(timezone.utc)
    assert datetime_diff_for_humans(now - timedelta(days=3, hours=1)) == "3 days ago"
    assert datetime_diff_for_humans(now + timedelta(hours=2, minutes=1)) == "in 2 hours"
    assert datetime_diff_for_humans(now - timedelta(seconds=2)) == "a few seconds ago"
    base = datetime(2020, 1, 1)
    assert datetime_diff_for_humans(base, base + timedelta(days=14)) == "2 weeks before"
    assert datetime_diff_for_humans(base + timedelta(minutes=1), base) == "1 minute after"
    assert datetime_diff_for_humans(base, datetime(2021, 8, 1)) == "2 years before"


def test_user_defined_macros_and_filters() -> None:
    dag = DAG(
        "custom",
        schedule=None,
        user_defined_macros={"project": "apollo", "twice": lambda v: v * 2},
        user_defined_filters={"shout": lambda v: v.upper() + "!"},
    )
    assert render("{{ project | shout }} {{ twice(21) }}", dag) == "APOLLO! 42"


def test_native_rendering() -> None:
    dag = DAG("native", schedule=None, render_template_as_native_obj=True, params={"n": 2})
    assert render("{{ [params.n, params.n * 2] }}", dag) == [2, 4]
    assert render("{{ params }}", dag) == {"n": 2}
    # Like Airflow's NativeEnvironment, a literal string is evaluated even without markers.
    assert render("123", dag) == 123
    assert render("plain words", dag) == "plain words"
    assert render(["{{ params.n }}", "x"], dag) == [2, "x"]


def test_undefined_is_an_error_unless_the_dag_relaxes_it() -> None:
    with pytest.raises(TemplateRenderError, match="'missing' is undefined"):
        render("{{ missing }}")
    assert render("[{{ missing }}]", template_undefined=jinja2.Undefined) == "[]"


def test_template_files_from_searchpath(tmp_path: Path) -> None:
    (tmp_path / "query.sql").write_text("select * from t where day = '{{ ds }}'\n")
    (tmp_path / "base.sql").write_text("{% include 'query.sql' %} limit {{ params.limit }}")
    dag = DAG("files", schedule=None, template_searchpath=[str(tmp_path)], params={"limit": 5})
    assert render("query.sql", dag) == "select * from t where day = '2024-03-05'"
    assert render("base.sql", dag) == "select * from t where day = '2024-03-05' limit 5"


def test_missing_template_file_names_file_and_search_path(tmp_path: Path) -> None:
    dag = DAG("missing_file", schedule=None, template_searchpath=str(tmp_path))
    with pytest.raises(TemplateRenderError) as info:
        render("nope.sql", dag)
    message = str(info.value)
    assert "task 't0'" in message and "'value'" in message
    assert "'nope.sql' not found" in message and str(tmp_path) in message
    with pytest.raises(
        TemplateRenderError, match=r"\(line 2\): template file 'inc.sql' not found in the search"
    ):
        render("x\n{% include 'inc.sql' %}", dag)


def test_error_messages_name_task_field_and_line(tmp_path: Path) -> None:
    with DAG("errors", schedule=None):
        task = Templated(task_id="greet", value="ok", other="line one\n{{ foo }}")
    with pytest.raises(TemplateRenderError) as info:
        task.render_template_fields(make_context(task))
    assert str(info.value) == (
        "task 'greet': cannot render template field 'other' (line 2): 'foo' is undefined"
    )

    with pytest.raises(TemplateRenderError, match=r"field 'value' \(line 3\): syntax error"):
        render("a\nb\n{{ oops( }}")
    with pytest.raises(TemplateRenderError, match=r"\(line 1\): ZeroDivisionError: division by zero") as err:
        render("{{ 1 / 0 }}")
    assert isinstance(err.value.__cause__, ZeroDivisionError)
    with pytest.raises(TemplateRenderError, match=r"field 'value' at \['k'\]\[1\] \(line 1\)"):
        render({"k": ["fine", "{{ nope }}"]})

    (tmp_path / "broken.sql").write_text("select\n\n{{ undefined_thing }}")
    dag = DAG("file_errors", schedule=None, template_searchpath=str(tmp_path))
    with pytest.raises(TemplateRenderError, match=r"\(file 'broken.sql', line 3\): 'undefined_thing'"):
        render("broken.sql", dag)


def test_containers_are_rendered_recursively() -> None:
    Pair = namedtuple("Pair", "left right")
    value = {
        "list": ["{{ ds }}", 1, None],
        "tuple": ("{{ ds_nodash }}",),
        "named": Pair("{{ 1 + 1 }}", "x"),
        "set": {"{{ 'a' }}"},
        "frozen": frozenset({"{{ 'b' }}"}),
    }
    assert render(value) == {
        "list": ["2024-03-05", 1, None],
        "tuple": ("20240305",),
        "named": Pair("2", "x"),
        "set": {"a"},
        "frozen": frozenset({"b"}),
    }


def test_nested_templated_objects_are_rendered_in_place() -> None:
    outer = Holder("{{ ds }}")
    inner = Holder(["{{ ds_nodash }}"])
    outer.text = [inner, "{{ 'top' }}"]
    inner.child = outer  # a cycle must not recurse forever
    result = render(outer)
    assert result is outer
    assert outer.text[1] == "top"
    assert inner.text == ["20240305"]


def test_resolvables_are_resolved_and_not_rendered_again() -> None:
    with DAG("xcoms", schedule=None):
        producer = Templated(task_id="producer")
        consumer = Templated(task_id="consumer", value={"v": PlainXComArg(producer)})
    xcoms = {("producer", -1, "return_value"): "{{ not rendered }}"}
    context = make_context(consumer, xcoms=xcoms)
    consumer.render_template_fields(context)
    assert consumer.value == {"v": "{{ not rendered }}"}
    assert consumer.upstream_task_ids == {"producer"}


def test_fast_path_skips_jinja_and_templates_are_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    dag = DAG("fast", schedule=None)
    env = templating.get_jinja_env(dag)
    assert templating.get_jinja_env(dag) is env
    compiled: list[str] = []
    original = env.from_string

    def counting(source: str, *args: Any, **kwargs: Any) -> Any:
        compiled.append(source)
        return original(source, *args, **kwargs)

    monkeypatch.setattr(env, "from_string", counting)
    assert render("no markers here", dag) == "no markers here"
    assert render("trailing newline\n", dag) == "trailing newline"  # as Jinja would give
    assert compiled == []
    assert render("{{ ds }}", dag) == "2024-03-05"
    assert render("{{ ds }}", dag) == "2024-03-05"
    assert compiled == ["{{ ds }}"]


def test_custom_delimiters_from_jinja_environment_kwargs() -> None:
    dag = DAG(
        "delims",
        schedule=None,
        jinja_environment_kwargs={"variable_start_string": "[[", "variable_end_string": "]]"},
    )
    assert render("[[ ds ]] {{ ds }}", dag) == "2024-03-05 {{ ds }}"


def test_render_template_on_operator_and_no_dag_env() -> None:
    with DAG("method", schedule=None):
        task = Templated(task_id="t")
    context = make_context(task)
    assert task.render_template(["{{ ds }}"], context) == ["2024-03-05"]
    env = templating.get_jinja_env(None)
    assert templating.render_value("{{ 2 * 3 }}", {}, env, task=None, field="x") == "6"
