"""One process-wide cache of deserialized DAG versions for the UI's data routes.

Stored versions never change, so a version read once is kept (bounded by ``DagCache``); the
latest version id is still looked up on every request.
"""

from __future__ import annotations

from sqlalchemy import Connection

from updraft.core.dag_runs import DagNotStored
from updraft.core.scheduler.dag_cache import DagCache
from updraft.sdk.serialization import SerializedDag

__all__ = ["latest_dag"]

_CACHE = DagCache(max_entries=256)


def latest_dag(conn: Connection, dag_id: str) -> tuple[int, SerializedDag]:
    """The newest stored version of the DAG (id, DAG); raises DagNotStored."""
    found = _CACHE.latest(conn, [dag_id]).get(dag_id)
    if found is None:
        raise DagNotStored(f"DAG {dag_id!r} is not in the metadata DB")
    return found
