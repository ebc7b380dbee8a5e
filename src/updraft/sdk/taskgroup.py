"""TaskGroup: a named box of tasks whose ids get the group's prefix, usable on either side of ``>>``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from updraft.sdk import contexts
from updraft.sdk.abstractoperator import AbstractOperator, validate_key
from updraft.sdk.dependencies import DependencyMixin

if TYPE_CHECKING:
    from updraft.sdk.dag import DAG


class TaskGroup(DependencyMixin):
    """Group tasks in the UI and in dependencies: ``group_a >> group_b`` links leaves to roots.

    Tasks created inside ``with TaskGroup("extract"):`` get ids like ``extract.load`` (unless
    ``prefix_group_id=False``); nested groups nest their prefixes.
    """

    def __init__(
        self,
        group_id: str | None,
        prefix_group_id: bool = True,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        default_args: dict[str, Any] | None = None,
        tooltip: str = "",
        ui_color: str = "CornflowerBlue",
        ui_fgcolor: str = "#000",
        add_suffix_on_collision: bool = False,
        group_display_name: str | None = None,
    ) -> None:
        self.prefix_group_id = prefix_group_id
        self.default_args = dict(default_args or {})
        self.tooltip = tooltip
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.group_display_name = group_display_name
        self.children: dict[str, AbstractOperator | TaskGroup] = {}
        self.used_group_ids: set[str | None]
        if group_id is None:
            # The root group of a DAG.
            if parent_group is not None:
                raise ValueError("only a DAG's root TaskGroup may have group_id None")
            self._group_id: str | None = None
            self.parent_group: TaskGroup | None = None
            self.dag = dag
            self.used_group_ids = {None}
            return

        dag = dag or (parent_group.dag if parent_group else None) or contexts.current_dag()
        if dag is None:
            raise ValueError(
                f"TaskGroup {group_id!r} was created outside a DAG: create it inside `with DAG(...)` "
                "or pass dag="
            )
        validate_key("group_id", group_id, f"in DAG {dag.dag_id!r}")
        parent_group = parent_group or contexts.current_task_group(dag)
        assert parent_group is not None
        self.parent_group = parent_group
        self.dag = dag
        self.used_group_ids = parent_group.used_group_ids
        base_id = group_id
        self._group_id = parent_group.child_id(group_id)
        if self._group_id in self.used_group_ids:
            if not add_suffix_on_collision:
                raise ValueError(f"TaskGroup id {self._group_id!r} is used twice in DAG {dag.dag_id!r}")
            suffix = 1
            while parent_group.child_id(f"{base_id}__{suffix}") in self.used_group_ids:
                suffix += 1
            self._group_id = parent_group.child_id(f"{base_id}__{suffix}")
        self.used_group_ids.add(self._group_id)
        parent_group.add(self)

    @property
    def group_id(self) -> str | None:
        return self._group_id

    @property
    def node_id(self) -> str | None:
        return self._group_id

    @property
    def label(self) -> str | None:
        if self._group_id and self.parent_group and self.parent_group.group_id:
            prefix = self.parent_group.group_id + "."
            if self.parent_group.prefix_group_id and self._group_id.startswith(prefix):
                return self._group_id[len(prefix) :]
        return self._group_id

    @property
    def is_root(self) -> bool:
        return self._group_id is None

    def child_id(self, label: str) -> str:
        """The full id a child called ``label`` gets in this group."""
        if self._group_id and self.prefix_group_id:
            return f"{self._group_id}.{label}"
        if self._group_id and self.parent_group is not None:
            # A group without its own prefix still passes on its parent's prefix.
            return self.parent_group.child_id(label)
        return label

    def add(self, child: AbstractOperator | TaskGroup) -> None:
        key = child.group_id if isinstance(child, TaskGroup) else child.task_id
        assert key is not None
        if key in self.children:
            raise ValueError(f"{key!r} is already a member of TaskGroup {self._group_id!r}")
        if isinstance(child, AbstractOperator):
            child.task_group = self
        self.children[key] = child

    def inherited_default_args(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        if self.parent_group is not None:
            merged.update(self.parent_group.inherited_default_args())
        merged.update(self.default_args)
        return merged

    def iter_tasks(self) -> list[AbstractOperator]:
        tasks: list[AbstractOperator] = []
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                tasks.extend(child.iter_tasks())
            else:
                tasks.append(child)
        return tasks

    def iter_groups(self) -> list[TaskGroup]:
        groups: list[TaskGroup] = []
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                groups.append(child)
                groups.extend(child.iter_groups())
        return groups

    @property
    def roots(self) -> list[AbstractOperator]:
        """Tasks of this group with no upstream inside the group."""
        tasks = self.iter_tasks()
        ids = {t.task_id for t in tasks}
        if not tasks:
            raise ValueError(f"TaskGroup {self._group_id!r} is empty: it has no tasks to depend on")
        return [t for t in tasks if not (t.upstream_task_ids & ids)]

    @property
    def leaves(self) -> list[AbstractOperator]:
        """Tasks of this group with no downstream inside the group."""
        tasks = self.iter_tasks()
        ids = {t.task_id for t in tasks}
        if not tasks:
            raise ValueError(f"TaskGroup {self._group_id!r} is empty: it has no tasks to depend on")
        return [t for t in tasks if not (t.downstream_task_ids & ids)]

    def __enter__(self) -> TaskGroup:
        contexts.push_task_group(self)
        return self

    def __exit__(self, *exc: object) -> None:
        contexts.pop_task_group()

    def __repr__(self) -> str:
        return f"<TaskGroup: {self._group_id}>"
