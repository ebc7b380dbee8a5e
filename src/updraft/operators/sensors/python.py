"""``PythonSensor`` (wait for a callable to return True) and the operator behind ``@task.sensor``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar

from updraft.operators.python import determine_kwargs, run_callable
from updraft.operators.sensors.base import BaseSensorOperator, PokeReturnValue
from updraft.operators.taskflow import DecoratedOperator
from updraft.sdk.exceptions import UpdraftException

__all__ = ["DecoratedSensorOperator", "PythonSensor"]


class PythonSensor(BaseSensorOperator):
    """Poke by calling ``python_callable(*op_args, **op_kwargs)`` (plus the context values it asks for).

    A truthy result ends the wait; a :class:`PokeReturnValue` also gives the XCom to push.
    ``op_args``, ``op_kwargs`` and ``templates_dict`` are templated, as for PythonOperator.
    """

    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "templates_dict": "json",
        "op_args": "py",
        "op_kwargs": "py",
    }
    shallow_copy_attrs: ClassVar[Sequence[str]] = ("python_callable",)

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise UpdraftException(
                f"sensor {self.task_id!r}: python_callable must be callable, got {python_callable!r}"
            )
        self.python_callable = python_callable
        self.op_args: Collection[Any] = op_args or ()
        self.op_kwargs: Mapping[str, Any] = op_kwargs or {}
        self.templates_dict = templates_dict

    def poke(self, context: Any) -> PokeReturnValue:
        context.update(self.op_kwargs)
        context["templates_dict"] = self.templates_dict
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        self.log.info("Poking callable: %s", getattr(self.python_callable, "__name__", self.python_callable))
        value = run_callable(self.python_callable, list(self.op_args), kwargs, self.log)
        if isinstance(value, PokeReturnValue):
            return value
        return PokeReturnValue(bool(value))


class DecoratedSensorOperator(DecoratedOperator, PythonSensor):
    """``@task.sensor``: the decorated function is the poke; it returns a bool or a PokeReturnValue."""

    template_fields: ClassVar[Sequence[str]] = ("op_args", "op_kwargs")
    template_fields_renderers: ClassVar[dict[str, str]] = {"op_args": "py", "op_kwargs": "py"}
    custom_operator_name = "@task.sensor"
