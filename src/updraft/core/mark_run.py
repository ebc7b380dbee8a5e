"""Marking a whole DAG run by hand (``PATCH .../dagRuns/{run_id}`` with a state), as Airflow does.

- ``success``: every unfinished task instance becomes ``success``;
- ``failed``: running ones become ``failed``, the other unfinished ones ``skipped``;
- ``queued``: only the run changes, so the scheduler looks at it again.

Each change is checked by ``updraft.core.state_machine`` (task instances with ``manual=True``);
a refused one raises InvalidStateTransition and nothing changes (the caller rolls back). The REST
API calls it; the CLI and the UI can share it.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, bindparam, select, update

from updraft.core.db.models import DagRun, TaskInstance
from updraft.core.db.types import utcnow
from updraft.core.state_machine import check_run_transition, check_ti_transition
from updraft.sdk.states import FINISHED_STATES, DagRunState, TaskInstanceState

__all__ = ["mark_run"]

_TI: Table = TaskInstance.__table__  # type: ignore[assignment]
_RUN: Table = DagRun.__table__  # type: ignore[assignment]


def mark_run(conn: Connection, dag_id: str, run_id: str, old_state: str, new_state: str) -> None:
    """Set the run (and its unfinished task instances) to ``new_state``; see the module docstring."""
    what = f"run {run_id!r} of DAG {dag_id!r}"
    check_run_transition(old_state, new_state, what=what)
    now = utcnow()
    if new_state in (DagRunState.SUCCESS, DagRunState.FAILED):
        finished = [s.value for s in FINISHED_STATES]
        rows = conn.execute(
            select(_TI.c.id, _TI.c.task_id, _TI.c.map_index, _TI.c.state)
            .where(_TI.c.dag_id == dag_id, _TI.c.run_id == run_id)
            .where(_TI.c.state.is_(None) | _TI.c.state.not_in(finished))
            .with_for_update()
        ).all()
        params = []
        for row in rows:
            if new_state == DagRunState.SUCCESS:
                target = TaskInstanceState.SUCCESS
            elif row.state == TaskInstanceState.RUNNING:
                target = TaskInstanceState.FAILED
            else:
                target = TaskInstanceState.SKIPPED
            check_ti_transition(
                row.state,
                target,
                what=f"task {row.task_id!r} (map index {row.map_index}) of {what}",
                manual=True,
            )
            params.append({"b_id": row.id, "b_state": target.value})
        if params:
            conn.execute(
                update(_TI)
                .where(_TI.c.id == bindparam("b_id"))
                .values(state=bindparam("b_state"), end_date=now, updated_at=now),
                params,
            )
        conn.execute(
            update(_RUN)
            .where(_RUN.c.dag_id == dag_id, _RUN.c.run_id == run_id)
            .values(state=new_state, end_date=now)
        )
    else:
        conn.execute(
            update(_RUN)
            .where(_RUN.c.dag_id == dag_id, _RUN.c.run_id == run_id)
            .values(
                state=new_state, queued_at=now, start_date=None, end_date=None, last_scheduling_decision=None
            )
        )
