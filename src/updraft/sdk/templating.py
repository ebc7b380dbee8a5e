"""Jinja templating of task fields: the DAG's environment, rendering values, and render errors.

``get_jinja_env(dag)`` builds (once per DAG) the environment Airflow would: a sandbox (or a
``NativeEnvironment`` with ``render_template_as_native_obj``) whose loader searches the DAG's
folder and ``template_searchpath``, with ``StrictUndefined``, the ``ds``/``ts`` filters and the
DAG's own macros and filters.

``render_value`` renders one field value: strings as templates (a string ending in one of the
task's ``template_ext`` is a template *file*), containers item by item, XComArgs and DAG params
by resolving them, and nested objects that declare ``template_fields`` in place. A string with
no template markers never reaches Jinja, and compiled templates are cached per environment, so
rendering a task with plain values costs next to nothing. Every failure becomes a
``TemplateRenderError`` naming the task, the field and the template line.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.nativetypes
import jinja2.sandbox

from updraft.sdk.exceptions import (
    TemplateRenderError,
    UpdraftFailException,
    UpdraftSkipException,
    UpdraftTaskTimeout,
)
from updraft.sdk.xcom_arg import Resolvable

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG

__all__ = ["FILTERS", "get_jinja_env", "render_template_fields", "render_value"]

#: Exceptions raised inside a template that keep their meaning instead of becoming render errors.
_PASS_THROUGH = (UpdraftSkipException, UpdraftFailException, UpdraftTaskTimeout)
_CACHE_LIMIT = 512


# -- filters (Airflow's) -----------------------------------------------------------------------


def ds_filter(value: date | time | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def ds_nodash_filter(value: date | time | None) -> str | None:
    return None if value is None else value.strftime("%Y%m%d")


def ts_filter(value: date | time | None) -> str | None:
    return None if value is None else value.isoformat()


def ts_nodash_filter(value: date | time | None) -> str | None:
    return None if value is None else value.strftime("%Y%m%dT%H%M%S")


def ts_nodash_with_tz_filter(value: date | time | None) -> str | None:
    return None if value is None else value.isoformat().replace("-", "").replace(":", "")


FILTERS = {
    "ds": ds_filter,
    "ds_nodash": ds_nodash_filter,
    "ts": ts_filter,
    "ts_nodash": ts_nodash_filter,
    "ts_nodash_with_tz": ts_nodash_with_tz_filter,
}


# -- environments ------------------------------------------------------------------------------


class SandboxedEnvironment(jinja2.sandbox.SandboxedEnvironment):
    """Airflow's sandbox: ``_private`` attributes are readable, ``__dunder__`` ones are not."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not jinja2.sandbox.is_internal_attribute(obj, attr)


class NativeEnvironment(jinja2.nativetypes.NativeEnvironment):
    """Renders templates to Python objects (``render_template_as_native_obj=True``)."""


def _build_env(
    env_class: type[jinja2.Environment], options: dict[str, Any], macros: Any, filters: Any
) -> jinja2.Environment:
    env = env_class(**options)
    env.filters.update(FILTERS)
    if macros:
        env.globals.update(macros)
    if filters:
        env.filters.update(filters)
    _prepare(env)
    return env


def _prepare(env: jinja2.Environment) -> None:
    """Attach the per-environment data the fast path and the compile cache need."""
    state = env.__dict__
    state["_updraft_templates"] = {}
    markers = (env.block_start_string, env.variable_start_string, env.comment_start_string)
    # Line statements or custom line comments make almost any text a template: no fast path then.
    state["_updraft_markers"] = (
        None
        if env.line_statement_prefix or env.line_comment_prefix or env.newline_sequence != "\n"
        else markers
    )
    state["_updraft_native"] = isinstance(env, jinja2.nativetypes.NativeEnvironment)


_default_env: jinja2.Environment | None = None


def get_jinja_env(dag: DAG | None) -> jinja2.Environment:
    """The Jinja environment for tasks of ``dag`` (built once and kept on ``dag._jinja_env``)."""
    global _default_env
    if dag is None:
        if _default_env is None:
            _default_env = _build_env(
                SandboxedEnvironment,
                {"undefined": jinja2.StrictUndefined, "extensions": ["jinja2.ext.do"]},
                None,
                None,
            )
        return _default_env
    env = getattr(dag, "_jinja_env", None)
    if env is not None:
        return env
    searchpath = [dag.folder, *(dag.template_searchpath or [])]
    options: dict[str, Any] = {
        "loader": jinja2.FileSystemLoader(searchpath),
        "undefined": dag.template_undefined or jinja2.StrictUndefined,
        "extensions": ["jinja2.ext.do"],
    }
    options.update(dag.jinja_environment_kwargs or {})
    env_class = NativeEnvironment if dag.render_template_as_native_obj else SandboxedEnvironment
    env = _build_env(env_class, options, dag.user_defined_macros, dag.user_defined_filters)
    dag._jinja_env = env
    return env


def _env_state(env: jinja2.Environment) -> dict[str, Any]:
    state = env.__dict__
    if "_updraft_templates" not in state:
        _prepare(env)
    return state


# -- errors ------------------------------------------------------------------------------------


class _Failure(Exception):
    """Internal: a failure deep in a value, carrying the path to it and the template position."""

    def __init__(self, detail: str, line: int | None, file: str | None, cause: BaseException) -> None:
        super().__init__(detail)
        self.detail = detail
        self.line = line
        self.file = file
        self.cause = cause
        self.path: list[str] = []


def _template_position(exc: BaseException) -> tuple[int | None, str | None]:
    """The template line (and file, for a template file) where ``exc`` was raised."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.lineno, exc.name
    line: int | None = None
    name: str | None = None
    tb = exc.__traceback__
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:
            line = template.get_corresponding_lineno(tb.tb_lineno)
            name = template.name
        tb = tb.tb_next
    return line, name


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"syntax error: {exc.message}"
    if isinstance(exc, jinja2.UndefinedError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _search_path(env: jinja2.Environment) -> str:
    loader = env.loader
    paths = getattr(loader, "searchpath", None)
    if paths:
        return ", ".join(str(p) for p in paths)
    return "(no template search path: the task has no DAG)"


def _wrap(task: Any, field: str, failure: _Failure) -> TemplateRenderError:
    task_id = getattr(task, "task_id", None)
    where = f"task {task_id!r}: " if task_id else ""
    path = "".join(reversed(failure.path))
    target = f"field {field!r}" + (f" at {path}" if path else "")
    position = []
    if failure.file:
        position.append(f"file {failure.file!r}")
    if failure.line is not None:
        position.append(f"line {failure.line}")
    pos = f" ({', '.join(position)})" if position else ""
    return TemplateRenderError(f"{where}cannot render template {target}{pos}: {failure.detail}")


# -- rendering ---------------------------------------------------------------------------------


def _compile(env: jinja2.Environment, source: str, state: dict[str, Any]) -> jinja2.Template:
    cache: dict[str, jinja2.Template] = state["_updraft_templates"]
    template = cache.get(source)
    if template is None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        try:
            template = env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise _Failure(_describe(exc), exc.lineno, None, exc) from None
        cache[source] = template
    return template


def _load_file(env: jinja2.Environment, name: str) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        detail = f"template file {name!r} not found in the search path {_search_path(env)}"
        raise _Failure(detail, None, None, exc) from None
    except jinja2.TemplateSyntaxError as exc:
        raise _Failure(_describe(exc), exc.lineno, exc.name or name, exc) from None


def _run(template: jinja2.Template, context: Any, native: bool) -> Any:
    try:
        variables = context if type(context) is dict else dict(context)
        nodes = template.root_render_func(template.new_context(variables))
        if native:
            return jinja2.nativetypes.native_concat(nodes)
        return "".join(nodes)
    except _PASS_THROUGH:
        raise
    except Exception as exc:  # noqa: BLE001 - anything raised while rendering is a render error
        line, name = _template_position(exc)
        detail = _describe(exc)
        if isinstance(exc, jinja2.TemplateNotFound):  # an {% include %} or {% extends %}
            detail = f"template file {exc.name!r} not found in the search path {_search_path(template.environment)}"
        raise _Failure(detail, line, name, exc) from None


def _render_string(value: str, context: Any, env: jinja2.Environment, template_ext: Any) -> Any:
    state = _env_state(env)
    if template_ext and value.endswith(template_ext):
        return _run(_load_file(env, value), context, state["_updraft_native"])
    markers = state["_updraft_markers"]
    if markers is not None and "\r" not in value and not any(m in value for m in markers):
        # Fast path: no Jinja at all, with the same result Jinja would give.
        if value.endswith("\n") and not env.keep_trailing_newline:
            value = value[:-1]
        if state["_updraft_native"] and value:
            return jinja2.nativetypes.native_concat([value])
        return value
    return _run(_compile(env, value, state), context, state["_updraft_native"])


def _render(value: Any, context: Any, env: jinja2.Environment, template_ext: Any, seen: set[int]) -> Any:
    if isinstance(value, str):
        return _render_string(value, context, env, template_ext)
    if value is None or isinstance(value, (int, float, bool, bytes, datetime, date)):
        return value
    if isinstance(value, Resolvable):
        return value.resolve(context)
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return _render_collection(value, context, env, template_ext, seen)
    _render_nested(value, context, env, template_ext, seen)
    return value


def _render_collection(value: Any, context: Any, env: Any, template_ext: Any, seen: set[int]) -> Any:
    if isinstance(value, dict):
        rendered: dict[Any, Any] = {}
        for key, item in value.items():
            try:
                rendered[key] = _render(item, context, env, template_ext, seen)
            except _Failure as failure:
                failure.path.append(f"[{key!r}]")
                raise
        return rendered
    items = []
    for index, item in enumerate(value):
        try:
            items.append(_render(item, context, env, template_ext, seen))
        except _Failure as failure:
            failure.path.append(f"[{index}]")
            raise
    if isinstance(value, list):
        return items
    if isinstance(value, tuple):
        return tuple(items) if type(value) is tuple else type(value)(*items)  # named tuples
    return frozenset(items) if isinstance(value, frozenset) else set(items)


def _render_nested(value: Any, context: Any, env: Any, template_ext: Any, seen: set[int]) -> None:
    """Render, in place, the ``template_fields`` of an object found inside a field."""
    if isinstance(value, type) or id(value) in seen:
        return
    fields = getattr(value, "template_fields", None)
    if not fields or isinstance(fields, str):
        return
    seen.add(id(value))
    for name in fields:
        try:
            rendered = _render(getattr(value, name), context, env, template_ext, seen)
        except _Failure as failure:
            failure.path.append(f".{name}")
            raise
        setattr(value, name, rendered)


def _ext_of(task: Any) -> tuple[str, ...]:
    ext = getattr(task, "template_ext", None) or ()
    return (ext,) if isinstance(ext, str) else tuple(ext)


def render_value(value: Any, context: Any, env: jinja2.Environment | None, *, task: Any, field: str) -> Any:
    """Render one value for ``task``'s ``field``; raises ``TemplateRenderError`` naming both."""
    if env is None:
        env = get_jinja_env(getattr(task, "dag", None))
    try:
        return _render(value, context, env, _ext_of(task), set())
    except _Failure as failure:
        raise _wrap(task, field, failure) from failure.cause


def render_template_fields(task: Any, context: Any, env: jinja2.Environment | None = None) -> None:
    """Render every field named in ``task.template_fields`` and store the result on the task."""
    fields: Iterable[str] = task.template_fields
    if isinstance(fields, str):  # a common slip: template_fields = ("sql") is just "sql"
        fields = (fields,)
    if not fields:
        return
    if env is None:
        env = get_jinja_env(getattr(task, "dag", None))
    template_ext = _ext_of(task)
    seen = {id(task)}
    for field in fields:
        try:
            value = getattr(task, field)
        except AttributeError:
            raise TemplateRenderError(
                f"task {getattr(task, 'task_id', None)!r}: {type(task).__name__} lists {field!r} in "
                "template_fields, but has no attribute of that name"
            ) from None
        try:
            rendered = _render(value, context, env, template_ext, seen)
        except _Failure as failure:
            raise _wrap(task, field, failure) from failure.cause
        if rendered is not value:
            setattr(task, field, rendered)
