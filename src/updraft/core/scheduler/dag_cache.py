"""Serialized DAGs as the scheduler reads them: deserialized once per stored version."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from updraft.core.db.models import SerializedDagModel
from updraft.sdk.serialization import SerializedDag, deserialize_dag


class DagCache:
    """Maps serialized_dag ids to SerializedDag objects (versions never change once stored)."""

    def __init__(self, max_entries: int = 2000) -> None:
        self._by_id: dict[int, SerializedDag] = {}
        self.max_entries = max_entries

    def get(self, conn: Connection, serialized_id: int) -> SerializedDag | None:
        found = self._by_id.get(serialized_id)
        if found is not None:
            return found
        data = conn.scalar(select(SerializedDagModel.data).where(SerializedDagModel.id == serialized_id))
        if data is None:
            return None
        return self._store(serialized_id, deserialize_dag(data))

    def latest(self, conn: Connection, dag_ids: Iterable[str]) -> dict[str, tuple[int, SerializedDag]]:
        """The newest stored version of each DAG, in one query for the ids and one for new data."""
        ids = list(dag_ids)
        if not ids:
            return {}
        newest = (
            select(SerializedDagModel.dag_id, func.max(SerializedDagModel.id).label("id"))
            .where(SerializedDagModel.dag_id.in_(ids))
            .group_by(SerializedDagModel.dag_id)
        )
        latest_ids = {row.dag_id: int(row.id) for row in conn.execute(newest)}
        missing = [sid for sid in latest_ids.values() if sid not in self._by_id]
        if missing:
            for row in conn.execute(
                select(SerializedDagModel.id, SerializedDagModel.data).where(
                    SerializedDagModel.id.in_(missing)
                )
            ):
                self._store(int(row.id), deserialize_dag(row.data))
        return {dag_id: (sid, self._by_id[sid]) for dag_id, sid in latest_ids.items()}

    def _store(self, serialized_id: int, dag: SerializedDag) -> SerializedDag:
        if len(self._by_id) >= self.max_entries:
            self._by_id.pop(next(iter(self._by_id)))
        self._by_id[serialized_id] = dag
        return dag
