"""XComArg: a reference to another task's output, resolved when the consuming task runs.

``extract.output``, a ``@task`` call's result, ``arg["key"]``, ``arg.map(fn)`` and
``arg.zip(other)`` are XComArgs. Passing one to an operator also makes the producing task
upstream of the consumer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from updraft.sdk.dependencies import DependencyMixin
from updraft.sdk.exceptions import UpdraftException

if TYPE_CHECKING:
    from updraft.sdk.abstractoperator import AbstractOperator
    from updraft.sdk.dag import DAG

RETURN_VALUE_KEY = "return_value"
_NOT_FOUND: Any = object()


class XComNotFound(UpdraftException, KeyError):
    """The upstream task pushed no XCom under the key a downstream task needs."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "XCom not found"


class Resolvable:
    """Something whose real value is only known when a task runs (an XComArg or a DAG param)."""

    def resolve(self, context: Any) -> Any:
        raise NotImplementedError


class XComArg(Resolvable, DependencyMixin):
    """Base of every XCom reference; ``XComArg(task, key=...)`` makes a plain one, as in Airflow."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is XComArg:
            return PlainXComArg(*args, **kwargs)
        return super().__new__(cls)

    @staticmethod
    def iter_xcom_args(value: Any, _depth: int = 0) -> Iterator[PlainXComArg]:
        """Every plain XComArg found in ``value`` (nested lists, tuples, sets, dict values)."""
        if _depth > 20:
            return
        if isinstance(value, XComArg):
            yield from value.iter_plain()
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                yield from XComArg.iter_xcom_args(item, _depth + 1)
        elif isinstance(value, dict):
            for item in value.values():
                yield from XComArg.iter_xcom_args(item, _depth + 1)

    def iter_plain(self) -> Iterator[PlainXComArg]:
        raise NotImplementedError

    @property
    def roots(self) -> list[AbstractOperator]:
        return [ref.operator for ref in self.iter_plain()]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [ref.operator for ref in self.iter_plain()]

    def map(self, f: Callable[[Any], Any]) -> MapXComArg:
        """Apply ``f`` to each item when resolved (lazily, in the consuming task)."""
        return MapXComArg(self, [f])

    def zip(self, *others: XComArg, fillvalue: Any = _NOT_FOUND) -> ZipXComArg:
        return ZipXComArg([self, *others], fillvalue=fillvalue)

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(
            "an XComArg is a reference to a future value and cannot be iterated while the DAG is "
            "defined; use .expand() to map over it, or iterate inside a task"
        )

    def __bool__(self) -> bool:
        return True


class PlainXComArg(XComArg):
    """The XCom of one task under one key (``return_value`` by default)."""

    def __init__(self, operator: AbstractOperator, key: str = RETURN_VALUE_KEY) -> None:
        self.operator = operator
        self.key = key

    def iter_plain(self) -> Iterator[PlainXComArg]:
        yield self

    def __enter__(self) -> PlainXComArg:
        self.operator.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.operator.__exit__(*exc_info)

    def as_setup(self) -> PlainXComArg:
        """Mark the producing task as a setup task (TaskFlow form of ``as_setup``)."""
        self.operator.as_setup()
        return self

    def as_teardown(self, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> PlainXComArg:
        """Mark the producing task as a teardown of ``setups`` (tasks or TaskFlow outputs)."""
        self.operator.as_teardown(setups=setups, on_failure_fail_dagrun=on_failure_fail_dagrun)
        return self

    def __getitem__(self, key: str) -> PlainXComArg:
        """``task_output["name"]``: one key of a ``multiple_outputs`` task."""
        if self.key != RETURN_VALUE_KEY:
            raise ValueError(f"XComArg of {self.operator.task_id!r} already selects key {self.key!r}")
        return PlainXComArg(self.operator, key)

    def resolve(self, context: Any) -> Any:
        ti = context["ti"]
        value = ti.xcom_pull(task_ids=self.operator.task_id, key=self.key, default=_NOT_FOUND)
        if value is _NOT_FOUND:
            if self.key == RETURN_VALUE_KEY:
                # A task that returned None pushed nothing; Airflow resolves that to None.
                return None
            raise XComNotFound(
                f"task {ti.task_id!r} needs the XCom {self.key!r} of task {self.operator.task_id!r} "
                f"(run {ti.run_id!r}), but that task pushed none"
            )
        return value

    def __repr__(self) -> str:
        suffix = "" if self.key == RETURN_VALUE_KEY else f"[{self.key!r}]"
        return f"XComArg({self.operator.task_id!r}){suffix}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainXComArg) and other.operator is self.operator and other.key == self.key

    def __hash__(self) -> int:
        return hash((id(self.operator), self.key))


class MapXComArg(XComArg):
    """``arg.map(f)``: each item of the upstream value passed through ``f``."""

    def __init__(self, arg: XComArg, callables: list[Callable[[Any], Any]]) -> None:
        self.arg = arg
        self.callables = callables

    def iter_plain(self) -> Iterator[PlainXComArg]:
        yield from self.arg.iter_plain()

    def map(self, f: Callable[[Any], Any]) -> MapXComArg:
        return MapXComArg(self.arg, [*self.callables, f])

    def resolve(self, context: Any) -> Any:
        value = self.arg.resolve(context)
        items = value.items() if isinstance(value, dict) else value
        result = []
        for item in items:
            for f in self.callables:
                item = f(item)
            result.append(item)
        return result


class ZipXComArg(XComArg):
    """``a.zip(b, c)``: tuples of corresponding items."""

    def __init__(self, args: list[XComArg], fillvalue: Any = _NOT_FOUND) -> None:
        self.args = args
        self.fillvalue = fillvalue

    def iter_plain(self) -> Iterator[PlainXComArg]:
        for arg in self.args:
            yield from arg.iter_plain()

    def resolve(self, context: Any) -> Any:
        values = [arg.resolve(context) for arg in self.args]
        if self.fillvalue is _NOT_FOUND:
            return list(zip(*values))
        return list(zip_longest(*values, fillvalue=self.fillvalue))


class DagParam(Resolvable):
    """A reference to a DAG param by name, resolved from the run's effective params."""

    def __init__(self, dag: DAG, name: str, default: Any = None) -> None:
        self.dag = dag
        self.name = name
        self.default = default

    def resolve(self, context: Any) -> Any:
        params = context.get("params") or {}
        if self.name in params:
            return params[self.name]
        return self.default

    def __repr__(self) -> str:
        return f"DagParam({self.name!r})"


def resolve_value(value: Any, context: Any) -> Any:
    """Replace every Resolvable inside ``value`` (nested lists, tuples, dicts) by its value."""
    if isinstance(value, Resolvable):
        return value.resolve(context)
    if isinstance(value, list):
        return [resolve_value(v, context) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_value(v, context) for v in value)
    if isinstance(value, dict):
        return {k: resolve_value(v, context) for k, v in value.items()}
    return value


def contains_resolvable(value: Any, _depth: int = 0) -> bool:
    if isinstance(value, Resolvable):
        return True
    if _depth > 20:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(contains_resolvable(v, _depth + 1) for v in value)
    if isinstance(value, dict):
        return any(contains_resolvable(v, _depth + 1) for v in value.values())
    return False
