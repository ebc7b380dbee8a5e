"""XCom storage: encode, size-check and write values; read them back by task, map index and key.

Values are stored with ``updraft.sdk.serde``'s typed JSON. Within one process a write-through
cache answers reads of values this process wrote, so a run driven in-process does not read back
what it just wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from updraft.core.db.models import XCom
from updraft.core.db.types import utcnow
from updraft.sdk import serde

_MISSING: Any = object()


class XComStore:
    """Reads and writes the XComs of DAG runs."""

    def __init__(self, engine: Engine, max_bytes: int | None, cache: bool = True) -> None:
        self.engine = engine
        self.max_bytes = max_bytes
        self._cache: dict[tuple[str, str, str, int, str], str] | None = {} if cache else None

    def encode(self, value: Any) -> str:
        return serde.encode(value, max_bytes=self.max_bytes)

    def write(
        self,
        session: Connection,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        values: dict[str, str],
    ) -> None:
        """Store already-encoded values under their keys, replacing earlier ones (one batch)."""
        if not values:
            return
        session.execute(
            delete(XCom).where(
                XCom.dag_id == dag_id,
                XCom.run_id == run_id,
                XCom.task_id == task_id,
                XCom.map_index == map_index,
                XCom.key.in_(list(values)),
            )
        )
        now = utcnow()
        session.execute(
            insert(XCom),
            [
                {
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "task_id": task_id,
                    "map_index": map_index,
                    "key": key,
                    "value": text,
                    "timestamp": now,
                }
                for key, text in values.items()
            ],
        )
        if self._cache is not None:
            for key, text in values.items():
                self._cache[(dag_id, run_id, task_id, map_index, key)] = text

    def clear(self, session: Connection, dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
        """Delete every XCom of one task instance (a new try starts without the last one's)."""
        session.execute(
            delete(XCom).where(
                XCom.dag_id == dag_id,
                XCom.run_id == run_id,
                XCom.task_id == task_id,
                XCom.map_index == map_index,
            )
        )
        self.forget_task(dag_id, run_id, task_id, map_index)

    def forget_task(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
        if self._cache is not None:
            for cache_key in [k for k in self._cache if k[:4] == (dag_id, run_id, task_id, map_index)]:
                del self._cache[cache_key]

    def get_one(
        self, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, default: Any = None
    ) -> Any:
        cache_key = (dag_id, run_id, task_id, map_index, key)
        if self._cache is not None and cache_key in self._cache:
            return serde.decode(self._cache[cache_key])
        with self.engine.connect() as session:
            text = session.scalar(
                select(XCom.value).where(
                    XCom.dag_id == dag_id,
                    XCom.run_id == run_id,
                    XCom.task_id == task_id,
                    XCom.map_index == map_index,
                    XCom.key == key,
                )
            )
        if text is None:
            return default
        return serde.decode(text)

    def get_mapped(
        self, dag_id: str, run_id: str, task_id: str, key: str, map_indexes: Iterable[int] | None = None
    ) -> list[Any]:
        """Values of every map index of a mapped task, in map_index order (missing ones skipped)."""
        with self.engine.connect() as session:
            query = select(XCom.map_index, XCom.value).where(
                XCom.dag_id == dag_id,
                XCom.run_id == run_id,
                XCom.task_id == task_id,
                XCom.key == key,
                XCom.map_index >= 0,
            )
            if map_indexes is not None:
                query = query.where(XCom.map_index.in_(list(map_indexes)))
            rows = session.execute(query.order_by(XCom.map_index)).all()
        return [serde.decode(text) for _, text in rows if text is not None]
