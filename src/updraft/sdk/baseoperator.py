"""``BaseOperator``: the arguments every task takes, default_args, templating hooks and ``partial()``.

Subclasses override ``execute(context)``. Every ``__init__`` in the class hierarchy is wrapped so
that arguments a task does not set itself are filled from the DAG's, the TaskGroup's and the
task's own ``default_args``, as in Airflow; unknown default_args keys are ignored.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from updraft.sdk import contexts
from updraft.sdk.abstractoperator import AbstractOperator, validate_key
from updraft.sdk.settings import settings
from updraft.sdk.trigger_rule import TriggerRule, parse_trigger_rule

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG
    from updraft.sdk.mapping import OperatorPartial
    from updraft.sdk.taskgroup import TaskGroup
    from updraft.sdk.xcom_arg import PlainXComArg

WEIGHT_RULES = ("downstream", "upstream", "absolute")
_UPDRAFT_PACKAGE_DIR = __file__.rsplit("/sdk/", 1)[0]


def _creation_site() -> str:
    """``file.py:LINE`` of the first frame outside updraft itself (the user's DAG file)."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_UPDRAFT_PACKAGE_DIR) and "importlib" not in filename:
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return ""


def _merged_default_args(dag: DAG | None, group: TaskGroup | None, own: dict[str, Any] | None) -> dict:
    merged: dict[str, Any] = {}
    if dag is not None and dag.default_args:
        merged.update(dag.default_args)
    if group is not None:
        merged.update(group.inherited_default_args())
    if own:
        merged.update(own)
    return merged


def _wrap_init(func: Callable[..., None]) -> Callable[..., None]:
    """Fill missing keyword arguments of ``func`` from default_args, Airflow's ``apply_defaults``."""
    signature = inspect.signature(func)
    params = signature.parameters
    names = [
        name
        for name, p in params.items()
        if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    required = {name for name in names if params[name].default is inspect.Parameter.empty}
    accepts_default_args = "default_args" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())

    @functools.wraps(func)
    def wrapper(self: BaseOperator, *args: Any, **kwargs: Any) -> None:
        if args:
            raise TypeError(
                f"{type(self).__name__}: use keyword arguments when creating an operator "
                f"(got positional arguments {args!r})"
            )
        state = self.__dict__
        outermost = "_init_default_args" not in state
        if outermost:
            dag = kwargs.get("dag") or contexts.current_dag()
            group = kwargs.get("task_group") or contexts.current_task_group(dag)
            state["_init_default_args"] = _merged_default_args(dag, group, kwargs.get("default_args"))
            state["_init_dag"] = dag
        default_args: dict[str, Any] = state["_init_default_args"]
        for name in names:
            if name not in kwargs and name in default_args:
                kwargs[name] = default_args[name]
        missing = sorted(required - kwargs.keys())
        if missing:
            raise TypeError(
                f"{type(self).__name__} (task_id {kwargs.get('task_id')!r}) is missing required "
                f"argument(s): {', '.join(missing)}"
            )
        if accepts_default_args:
            kwargs["default_args"] = default_args
        else:
            kwargs.pop("default_args", None)
        func(self, **kwargs)
        if outermost:
            self._after_init()

    wrapper._updraft_wrapped = True  # type: ignore[attr-defined]
    return wrapper


def _as_callback_list(value: Any, name: str, task_id: str) -> list[Callable[..., Any]]:
    if value is None:
        return []
    callbacks = list(value) if isinstance(value, (list, tuple)) else [value]
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"task {task_id!r}: {name} must be callable, got {callback!r}")
    return callbacks


def _as_timedelta(value: Any, name: str, task_id: str, allow_none: bool = True) -> timedelta | None:
    if value is None and allow_none:
        return None
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise TypeError(f"task {task_id!r}: {name} must be a timedelta or a number of seconds, got {value!r}")


class BaseOperator(AbstractOperator):
    """Base class of every task. Subclasses implement ``execute(self, context)``."""

    template_fields: ClassVar[Sequence[str]] = ()
    template_ext: ClassVar[Sequence[str]] = ()
    template_fields_renderers: ClassVar[dict[str, str]] = {}
    ui_color: ClassVar[str] = "#fff"
    ui_fgcolor: ClassVar[str] = "#000"
    #: Attributes that prepare_for_execution shares instead of copying.
    shallow_copy_attrs: ClassVar[Sequence[str]] = ()
    custom_operator_name: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_updraft_wrapped", False):
            cls.__init__ = _wrap_init(init)  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        task_id: str,
        owner: str | None = None,
        email: str | Sequence[str] | None = None,
        email_on_retry: bool = True,
        email_on_failure: bool = True,
        retries: int | None = None,
        retry_delay: timedelta | float = 300.0,
        retry_exponential_backoff: bool | float = False,
        max_retry_delay: timedelta | float | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        depends_on_past: bool = False,
        ignore_first_depends_on_past: bool = True,
        wait_for_past_depends_before_skipping: bool = False,
        wait_for_downstream: bool = False,
        dag: DAG | None = None,
        params: dict[str, Any] | None = None,
        default_args: dict[str, Any] | None = None,
        priority_weight: int = 1,
        weight_rule: str = "downstream",
        queue: str = "default",
        pool: str | None = None,
        pool_slots: int = 1,
        execution_timeout: timedelta | float | None = None,
        on_execute_callback: Any = None,
        on_failure_callback: Any = None,
        on_success_callback: Any = None,
        on_retry_callback: Any = None,
        on_skipped_callback: Any = None,
        pre_execute: Callable[..., Any] | None = None,
        post_execute: Callable[..., Any] | None = None,
        trigger_rule: str | TriggerRule = TriggerRule.ALL_SUCCESS,
        resources: dict[str, Any] | None = None,
        run_as_user: str | None = None,
        max_active_tis_per_dag: int | None = None,
        max_active_tis_per_dagrun: int | None = None,
        executor_config: dict[str, Any] | None = None,
        do_xcom_push: bool = True,
        multiple_outputs: bool = False,
        inlets: Any = None,
        outlets: Any = None,
        task_group: TaskGroup | None = None,
        doc: str | None = None,
        doc_md: str | None = None,
        doc_json: str | None = None,
        doc_yaml: str | None = None,
        doc_rst: str | None = None,
        task_display_name: str | None = None,
        logger_name: str | None = None,
        allow_nested_operators: bool = True,
        executor: str | None = None,
        map_index_template: str | None = None,
        sla: Any = None,
        task_concurrency: int | None = None,
        **kwargs: Any,
    ) -> None:
        dag = dag or self.__dict__.get("_init_dag") or contexts.current_dag()
        where = f"in DAG {dag.dag_id!r}" if dag is not None else ""
        # Airflow 1 needed provide_context=True to pass the context; Airflow 2 ignores it, so do we.
        kwargs.pop("provide_context", None)
        if kwargs:
            raise TypeError(
                f"invalid arguments were passed to {type(self).__name__} (task_id: {task_id!r}) {where}: "
                f"{', '.join(sorted(kwargs))}"
            )
        task_group = task_group or contexts.current_task_group(dag)
        validate_key("task_id", task_id, where)
        if task_group is not None:
            task_id = task_group.child_id(task_id)
        self.task_id = task_id
        self.created_at = _creation_site()
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        self.task_group = None

        self.owner = owner if owner is not None else settings.default_owner
        self.email = email
        self.email_on_retry = email_on_retry
        self.email_on_failure = email_on_failure
        self.retries = self._validated_retries(retries, where)
        self.retry_delay = _as_timedelta(retry_delay, "retry_delay", task_id, allow_none=False)
        self.retry_exponential_backoff = retry_exponential_backoff
        self.max_retry_delay = _as_timedelta(max_retry_delay, "max_retry_delay", task_id)
        self.start_date = start_date
        self.end_date = end_date
        self.depends_on_past = depends_on_past or wait_for_downstream
        self.ignore_first_depends_on_past = ignore_first_depends_on_past
        self.wait_for_past_depends_before_skipping = wait_for_past_depends_before_skipping
        self.wait_for_downstream = wait_for_downstream
        try:
            self.trigger_rule = parse_trigger_rule(trigger_rule)
        except ValueError as exc:
            raise ValueError(f"task {task_id!r} {where}: {exc}") from None
        if weight_rule not in WEIGHT_RULES:
            raise ValueError(
                f"task {task_id!r} {where}: unknown weight_rule {weight_rule!r}; "
                f"use one of {', '.join(WEIGHT_RULES)}"
            )
        self.priority_weight = int(priority_weight)
        self.weight_rule = weight_rule
        self.queue = queue
        self.pool = pool or "default_pool"
        if int(pool_slots) < 1:
            raise ValueError(f"task {task_id!r} {where}: pool_slots must be at least 1, got {pool_slots}")
        self.pool_slots = int(pool_slots)
        self.execution_timeout = _as_timedelta(execution_timeout, "execution_timeout", task_id)
        self.on_execute_callback = _as_callback_list(on_execute_callback, "on_execute_callback", task_id)
        self.on_failure_callback = _as_callback_list(on_failure_callback, "on_failure_callback", task_id)
        self.on_success_callback = _as_callback_list(on_success_callback, "on_success_callback", task_id)
        self.on_retry_callback = _as_callback_list(on_retry_callback, "on_retry_callback", task_id)
        self.on_skipped_callback = _as_callback_list(on_skipped_callback, "on_skipped_callback", task_id)
        self._pre_execute_hook = pre_execute
        self._post_execute_hook = post_execute
        self.resources = resources
        self.run_as_user = run_as_user
        self.max_active_tis_per_dag = max_active_tis_per_dag or task_concurrency
        self.max_active_tis_per_dagrun = max_active_tis_per_dagrun
        self.executor_config = executor_config or {}
        self.do_xcom_push = do_xcom_push
        self.multiple_outputs = multiple_outputs
        self.inlets = list(inlets) if isinstance(inlets, (list, tuple)) else ([inlets] if inlets else [])
        self.outlets = list(outlets) if isinstance(outlets, (list, tuple)) else ([outlets] if outlets else [])
        self.doc = doc
        self.doc_md = doc_md
        self.doc_json = doc_json
        self.doc_yaml = doc_yaml
        self.doc_rst = doc_rst
        self.task_display_name = task_display_name
        self.allow_nested_operators = allow_nested_operators
        self.executor = executor
        self.map_index_template = map_index_template
        self._logger_name = logger_name

        default_params = (default_args or {}).get("params")
        merged_params: dict[str, Any] = {}
        if isinstance(default_params, dict) and default_params is not params:
            merged_params.update(default_params)
        if params:
            merged_params.update(params)
        from updraft.sdk.params import ParamsDict

        self.params = ParamsDict(merged_params)

        if dag is not None:
            self.dag = dag
        if task_group is not None:
            task_group.add(self)
        contexts.track_creation(self)

    def _validated_retries(self, retries: Any, where: str) -> int:
        if retries is None:
            return settings.default_retries
        try:
            value = int(retries)
        except (TypeError, ValueError):
            raise TypeError(
                f"task {self.task_id!r} {where}: retries must be an integer, got {retries!r}"
            ) from None
        if value < 0:
            raise ValueError(f"task {self.task_id!r} {where}: retries must not be negative, got {value}")
        return value

    def _after_init(self) -> None:
        """Runs once the outermost ``__init__`` finished: wire XComArgs found in template fields."""
        state = self.__dict__
        state.pop("_init_default_args", None)
        state.pop("_init_dag", None)
        if contexts.isolated.depth:
            # Built at run time for one map index: its dependencies are already in the DAG.
            return
        from updraft.sdk.xcom_arg import XComArg

        for field in self.template_fields:
            value = getattr(self, field, None)
            for ref in XComArg.iter_xcom_args(value):
                self.set_upstream(ref.operator)
        state["_initialized"] = True

    def __setattr__(self, key: str, value: Any) -> None:
        super().__setattr__(key, value)
        if self.__dict__.get("_initialized") and key in self.template_fields:
            from updraft.sdk.xcom_arg import XComArg

            for ref in XComArg.iter_xcom_args(value):
                self.set_upstream(ref.operator)

    # -- running -------------------------------------------------------------------------------

    def execute(self, context: Any) -> Any:
        """Do the task's work; the return value is pushed as the ``return_value`` XCom."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute(context)")

    def pre_execute(self, context: Any) -> None:
        if self._pre_execute_hook is not None:
            self._pre_execute_hook(context)

    def post_execute(self, context: Any, result: Any = None) -> None:
        if self._post_execute_hook is not None:
            self._post_execute_hook(context, result)

    def on_kill(self) -> None:
        """Called when the task is stopped from outside; release what execute() holds."""

    def prepare_for_execution(self) -> BaseOperator:
        """A shallow copy to render templates into, so the DAG's own task object stays pristine."""
        return copy.copy(self)

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Render every field in ``template_fields`` in place, with ``context``."""
        from updraft.sdk.templating import render_template_fields

        render_template_fields(self, context, jinja_env)

    def render_template(self, content: Any, context: Any, jinja_env: Any = None) -> Any:
        from updraft.sdk.templating import render_value

        if jinja_env is None:
            jinja_env = self.get_template_env()
        return render_value(content, context, jinja_env, task=self, field="<value>")

    def get_template_env(self) -> Any:
        from updraft.sdk.templating import get_jinja_env

        return get_jinja_env(self.dag)

    def dry_run(self) -> None:
        self.log.info("Dry run of %s", self.task_id)

    # -- conveniences ---------------------------------------------------------------------------

    @property
    def log(self) -> logging.Logger:
        name = self._logger_name or f"updraft.task.operators.{type(self).__module__}.{type(self).__name__}"
        return logging.getLogger(name)

    @property
    def output(self) -> PlainXComArg:
        """The task's return value, as an XComArg to pass to other tasks."""
        from updraft.sdk.xcom_arg import PlainXComArg

        return PlainXComArg(self)

    @property
    def operator_name(self) -> str:
        return self.custom_operator_name or type(self).__name__

    @property
    def task_type(self) -> str:
        return type(self).__name__

    def xcom_push(self, context: Any, key: str, value: Any) -> None:
        """Airflow 2 style: ``self.xcom_push(context, key, value)``."""
        context["ti"].xcom_push(key=key, value=value)

    def xcom_pull(self, context: Any, task_ids: Any = None, key: str = "return_value", **kwargs: Any) -> Any:
        return context["ti"].xcom_pull(task_ids=task_ids, key=key, **kwargs)

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """Fix the arguments shared by every mapped instance; finish with ``.expand(...)``."""
        from updraft.sdk.mapping import OperatorPartial

        return OperatorPartial(operator_class=cls, kwargs=kwargs)


BaseOperator.__init__ = _wrap_init(BaseOperator.__init__)  # type: ignore[method-assign]
