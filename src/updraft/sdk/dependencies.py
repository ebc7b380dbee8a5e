"""Wiring tasks together: ``>>``, ``<<``, ``set_upstream``/``set_downstream``, ``chain``, ``cross_downstream``.

Anything that can sit on either side of ``>>`` (an operator, a mapped operator, an XComArg,
a TaskGroup, a Label, or a list of these) is a ``DependencyMixin``: it names its ``roots``
(what an upstream connects to) and ``leaves`` (what connects to a downstream).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from updraft.sdk.abstractoperator import AbstractOperator
    from updraft.sdk.edges import EdgeModifier

Relatives = Union["DependencyMixin", Sequence["DependencyMixin"]]


class DependencyMixin:
    """Mixin for objects that can take part in task dependencies."""

    @property
    def roots(self) -> list[AbstractOperator]:
        raise NotImplementedError

    @property
    def leaves(self) -> list[AbstractOperator]:
        raise NotImplementedError

    def set_upstream(self, other: Relatives, edge_modifier: EdgeModifier | None = None) -> None:
        for item in _as_list(other):
            if _is_edge_modifier(item):
                item._attach_downstream(self)  # type: ignore[attr-defined]
                continue
            for upstream in _leaves_of(item):
                for downstream in self.roots:
                    link(upstream, downstream, edge_modifier)

    def set_downstream(self, other: Relatives, edge_modifier: EdgeModifier | None = None) -> None:
        for item in _as_list(other):
            if _is_edge_modifier(item):
                item._attach_upstream(self)  # type: ignore[attr-defined]
                continue
            for downstream in _roots_of(item):
                for upstream in self.leaves:
                    link(upstream, downstream, edge_modifier)

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> Any:
        """``[a, b] >> self``."""
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> Any:
        """``[a, b] << self``."""
        self.set_downstream(other)
        return self


def _is_edge_modifier(item: object) -> bool:
    from updraft.sdk.edges import EdgeModifier

    return isinstance(item, EdgeModifier)


def _as_list(other: Any) -> list[Any]:
    if isinstance(other, DependencyMixin):
        return [other]
    if isinstance(other, Iterable) and not isinstance(other, (str, bytes, dict)):
        items = list(other)
        for item in items:
            if not isinstance(item, DependencyMixin):
                raise TypeError(f"cannot set a dependency on {item!r}: it is not a task, group or XComArg")
        return items
    raise TypeError(f"cannot set a dependency on {other!r}: it is not a task, group or XComArg")


def _roots_of(item: DependencyMixin) -> list[AbstractOperator]:
    return item.roots


def _leaves_of(item: DependencyMixin) -> list[AbstractOperator]:
    return item.leaves


def link(upstream: AbstractOperator, downstream: AbstractOperator, edge_modifier: Any = None) -> None:
    """Record ``upstream >> downstream`` on both tasks and in their DAG (with an edge label)."""
    if upstream is downstream:
        raise ValueError(f"task {upstream.task_id!r} cannot depend on itself")
    dag = upstream.dag or downstream.dag
    if upstream.dag is not None and downstream.dag is not None and upstream.dag is not downstream.dag:
        raise ValueError(
            f"tasks {upstream.task_id!r} (DAG {upstream.dag.dag_id!r}) and {downstream.task_id!r} "
            f"(DAG {downstream.dag.dag_id!r}) are in different DAGs and cannot depend on each other"
        )
    if dag is not None:
        for task in (upstream, downstream):
            if task.dag is None:
                task.dag = dag
    upstream.downstream_task_ids.add(downstream.task_id)
    downstream.upstream_task_ids.add(upstream.task_id)
    if edge_modifier is not None and dag is not None:
        dag.set_edge_info(upstream.task_id, downstream.task_id, {"label": edge_modifier.label})


def chain(*tasks: Any) -> None:
    """Chain tasks one after another; adjacent lists of equal length are paired element-wise.

    ``chain(a, [b, c], [d, e], f)`` sets ``a >> b``, ``a >> c``, ``b >> d``, ``c >> e``,
    ``d >> f``, ``e >> f``, as Airflow's ``chain`` does.
    """
    for up, down in pairwise(tasks):
        up_is_list = isinstance(up, Sequence) and not isinstance(up, (str, DependencyMixin))
        down_is_list = isinstance(down, Sequence) and not isinstance(down, (str, DependencyMixin))
        if up_is_list and down_is_list:
            if len(up) != len(down):
                raise ValueError(
                    f"chain() pairs adjacent lists element-wise, but got lists of length "
                    f"{len(up)} and {len(down)}"
                )
            for u, d in zip(up, down):
                u.set_downstream(d)
        elif up_is_list:
            for u in up:
                u.set_downstream(down)
        else:
            up.set_downstream(down)


def cross_downstream(from_tasks: Sequence[Any], to_tasks: Any) -> None:
    """Make every task in ``from_tasks`` upstream of every task in ``to_tasks``."""
    for task in from_tasks:
        task.set_downstream(to_tasks)


def chain_linear(*elements: Any) -> None:
    """Like chain, but every element of a list connects to every element of the next."""
    for up, down in pairwise(elements):
        ups = up if isinstance(up, Sequence) and not isinstance(up, DependencyMixin) else [up]
        for u in ups:
            u.set_downstream(down)
