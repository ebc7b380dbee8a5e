"""Edge labels: ``a >> Label("when empty") >> b`` names the edge from a to b in the graph view."""

from __future__ import annotations

from typing import Any

from updraft.sdk.dependencies import DependencyMixin


class EdgeModifier(DependencyMixin):
    """Sits between two sides of ``>>`` and passes the dependency through with extra edge info."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label
        self._upstream: list[Any] = []
        self._downstream: list[Any] = []

    @property
    def roots(self) -> list[Any]:
        raise TypeError("a Label must sit between two tasks")

    @property
    def leaves(self) -> list[Any]:
        raise TypeError("a Label must sit between two tasks")

    def _attach_upstream(self, other: Any) -> None:
        self._upstream.append(other)
        for down in self._downstream:
            other.set_downstream(down, edge_modifier=self)

    def _attach_downstream(self, other: Any) -> None:
        self._downstream.append(other)
        for up in self._upstream:
            other.set_upstream(up, edge_modifier=self)

    def set_downstream(self, other: Any, edge_modifier: Any = None) -> None:
        items = other if isinstance(other, (list, tuple)) else [other]
        self._downstream.extend(items)
        for up in self._upstream:
            up.set_downstream(items, edge_modifier=self)

    def set_upstream(self, other: Any, edge_modifier: Any = None) -> None:
        items = other if isinstance(other, (list, tuple)) else [other]
        self._upstream.extend(items)
        for down in self._downstream:
            down.set_upstream(items, edge_modifier=self)

    def __repr__(self) -> str:
        return f"Label({self.label!r})"


def Label(label: str) -> EdgeModifier:
    """Name the edge between two tasks: ``a >> Label("ok") >> b``."""
    return EdgeModifier(label)
