"""The stacks behind ``with DAG(...)`` and ``with TaskGroup(...)``: which DAG and group is current."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG
    from updraft.sdk.taskgroup import TaskGroup

_dag_stack: list[DAG] = []
_group_stack: list[TaskGroup] = []


def push_dag(dag: DAG) -> None:
    _dag_stack.append(dag)


def pop_dag() -> DAG:
    return _dag_stack.pop()


def current_dag() -> DAG | None:
    return _dag_stack[-1] if _dag_stack else None


def push_task_group(group: TaskGroup) -> None:
    _group_stack.append(group)


def pop_task_group() -> TaskGroup:
    return _group_stack.pop()


def current_task_group(dag: DAG | None) -> TaskGroup | None:
    """The innermost open TaskGroup that belongs to ``dag``, else the DAG's root group."""
    for group in reversed(_group_stack):
        if dag is None or group.dag is dag:
            return group
    return dag.task_group if dag is not None else None


class CreationTracker:
    """Remembers the operators and partials created while a DAG file is imported.

    After the import, anything still attached to no DAG (or a ``partial()`` never expanded)
    is reported as an error in that file, instead of being silently dropped.
    """

    def __init__(self) -> None:
        # Strong references: a task created and dropped at once (never attached) must still be
        # seen, and the tracker only lives while one file is imported.
        self.objects: list[Any] = []

    def add(self, obj: Any) -> None:
        self.objects.append(obj)

    def alive(self) -> list[Any]:
        return list(self.objects)


_trackers: list[CreationTracker] = []


def start_tracking() -> CreationTracker:
    tracker = CreationTracker()
    _trackers.append(tracker)
    return tracker


def stop_tracking(tracker: CreationTracker) -> None:
    if tracker in _trackers:
        _trackers.remove(tracker)


def track_creation(obj: Any) -> None:
    if _trackers:
        _trackers[-1].add(obj)


class isolated:
    """Temporarily hide any open DAG/TaskGroup contexts (used when building tasks at run time)."""

    depth = 0

    def __enter__(self) -> None:
        self._saved = (_dag_stack[:], _group_stack[:])
        _dag_stack.clear()
        _group_stack.clear()
        isolated.depth += 1

    def __exit__(self, *exc: object) -> None:
        _dag_stack[:], _group_stack[:] = self._saved
        isolated.depth -= 1
