"""A DAG's graph as plain text, for ``updraft dags show``."""

from __future__ import annotations

from typing import Any


def render_graph(dag: Any) -> str:
    """Tasks in dependency order, grouped by TaskGroup, each with its downstream tasks and labels."""
    order = dag.topological_sort()
    lines = [f"DAG {dag.dag_id}  ({len(order)} tasks, schedule: {dag.timetable.summary})"]
    layer: dict[str, int] = {}
    for task in order:
        layer[task.task_id] = 1 + max((layer[up] for up in task.upstream_task_ids), default=-1)
    for task in order:
        group = task.task_group.group_id if task.task_group is not None and task.task_group.group_id else None
        kind = task.operator_name + (" (mapped)" if task.is_mapped else "")
        rule = "" if task.trigger_rule.value == "all_success" else f"  trigger_rule={task.trigger_rule.value}"
        where = f"  [group {group}]" if group else ""
        lines.append(f"{'  ' * layer[task.task_id]}{task.task_id}  <{kind}>{rule}{where}")
        for down in sorted(task.downstream_task_ids):
            label = dag.get_edge_info(task.task_id, down).get("label")
            suffix = f"  ({label})" if label else ""
            lines.append(f"{'  ' * layer[task.task_id]}  >> {down}{suffix}")
    return "\n".join(lines)
