"""Storing parsed DAGs in the metadata DB: the dag row, a new serialized version when it changed,
the file's source code, and the file's import error (or its removal once the file is fixed).

Everything works from the serialized form (``serialize_dag``'s output), so the DAG processor,
which never holds the user's DAG objects, stores exactly what ``dags test`` stores. Writes are
set-based: :func:`sync_serialized_dags` stores a whole batch of DAGs with a fixed number of
statements; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from updraft.core.dagbag import DagBag
from updraft.core.db.models import DagCode, DagModel, DagTag, ParseImportError, SerializedDagModel
from updraft.core.db.types import utcnow
from updraft.sdk.dag import DAG
from updraft.sdk.serialization import dag_hash, serialize_dag

__all__ = [
    "StoredDag",
    "deactivate_dags",
    "mark_import_errors",
    "sync_dag",
    "sync_dagbag",
    "sync_import_errors",
    "sync_serialized_dag",
    "sync_serialized_dags",
]

T = TypeVar("T")
_CHUNK = 500  # ids per IN (...) list: far below any backend's limit on bound parameters
_DAG_COLUMNS = (
    "fileloc",
    "relative_fileloc",
    "is_active",
    "owners",
    "description",
    "timetable_summary",
    "timetable_description",
    "max_active_runs",
    "max_active_tasks",
    "has_import_errors",
    "last_parsed_time",
)


@dataclass(frozen=True)
class StoredDag:
    """What storing one DAG did: its current serialized version and whether anything is new."""

    dag_id: str
    serialized_id: int
    version: int
    created: bool  # the dag row did not exist before
    reactivated: bool  # the dag row existed but was inactive
    new_version: bool  # a serialized version was written (the DAG changed, or is new)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sync_import_errors(conn: Connection, processed_files: Iterable[str], errors: dict[str, str]) -> None:
    """Replace the import errors of the files just processed (a fixed file loses its error)."""
    files = list(processed_files)
    for chunk in _chunks(files):
        conn.execute(delete(ParseImportError).where(ParseImportError.filename.in_(chunk)))
    now = utcnow()
    rows = [{"filename": f, "stacktrace": text, "timestamp": now} for f, text in errors.items()]
    if rows:
        conn.execute(insert(ParseImportError), rows)


def mark_import_errors(conn: Connection, files: Iterable[str]) -> None:
    """Flag the DAGs of files that failed to import; they keep their last good version."""
    for chunk in _chunks(list(files)):
        conn.execute(update(DagModel).where(DagModel.fileloc.in_(chunk)).values(has_import_errors=True))


def deactivate_dags(conn: Connection, dag_ids: Iterable[str]) -> None:
    """Take DAGs off the DAG list; their runs, versions and other history stay."""
    for chunk in _chunks(sorted(set(dag_ids))):
        conn.execute(
            update(DagModel)
            .where(DagModel.dag_id.in_(chunk), DagModel.is_active.is_(True))
            .values(is_active=False)
        )


def _dag_values(body: dict[str, Any], now: Any) -> dict[str, Any]:
    fileloc = body.get("fileloc") or ""
    return {
        "fileloc": fileloc,
        "relative_fileloc": Path(fileloc).name,
        "is_active": True,
        "owners": ", ".join(body.get("owners") or []),
        "description": body.get("description"),
        "timetable_summary": body.get("timetable_summary"),
        "timetable_description": body.get("timetable_description"),
        "max_active_runs": body.get("max_active_runs"),
        "max_active_tasks": body.get("max_active_tasks"),
        "has_import_errors": False,
        "last_parsed_time": now,
    }


def sync_serialized_dags(
    conn: Connection, items: Iterable[tuple[dict[str, Any], str | None]], paused_at_creation: bool
) -> dict[str, StoredDag]:
    """Upsert a batch of serialized DAGs, each with the hash of its file; returns what was stored.

    Each DAG's row is (re)activated and refreshed; a new serialized version is written only when the
    DAG's JSON differs from its latest version. A dag_id given twice keeps the last one.
    """
    by_id: dict[str, tuple[dict[str, Any], str | None]] = {}
    for data, digest in items:
        by_id[str(data["dag"]["dag_id"])] = (data, digest)
    if not by_id:
        return {}
    dag_ids = list(by_id)
    now = utcnow()

    active: dict[str, bool] = {}
    latest: dict[str, tuple[int, int, str]] = {}  # dag_id -> (serialized id, version, dag_hash)
    for chunk in _chunks(dag_ids):
        rows = conn.execute(select(DagModel.dag_id, DagModel.is_active).where(DagModel.dag_id.in_(chunk)))
        active.update({row.dag_id: bool(row.is_active) for row in rows})
        newest = (
            select(SerializedDagModel.dag_id, func.max(SerializedDagModel.version).label("version"))
            .where(SerializedDagModel.dag_id.in_(chunk))
            .group_by(SerializedDagModel.dag_id)
            .subquery()
        )
        found = conn.execute(
            select(
                SerializedDagModel.id,
                SerializedDagModel.dag_id,
                SerializedDagModel.version,
                SerializedDagModel.dag_hash,
            ).join(
                newest,
                and_(
                    SerializedDagModel.dag_id == newest.c.dag_id,
                    SerializedDagModel.version == newest.c.version,
                ),
            )
        )
        latest.update({row.dag_id: (int(row.id), int(row.version), row.dag_hash) for row in found})

    inserts, updates = [], []
    for dag_id, (data, _) in by_id.items():
        body = data["dag"]
        values = _dag_values(body, now)
        if dag_id in active:
            updates.append({"b_dag_id": dag_id, **{f"b_{k}": v for k, v in values.items()}})
        else:
            upon_creation = body.get("is_paused_upon_creation")
            paused = upon_creation if upon_creation is not None else paused_at_creation
            inserts.append({"dag_id": dag_id, "is_paused": bool(paused), **values})
    if inserts:
        conn.execute(insert(DagModel), inserts)
    if updates:
        conn.execute(
            update(DagModel)
            .where(DagModel.dag_id == bindparam("b_dag_id"))
            .values({name: bindparam(f"b_{name}") for name in _DAG_COLUMNS}),
            updates,
        )

    for chunk in _chunks(dag_ids):
        conn.execute(delete(DagTag).where(DagTag.dag_id.in_(chunk)))
    tags = [
        {"dag_id": dag_id, "name": tag}
        for dag_id, (data, _) in by_id.items()
        for tag in sorted(set(data["dag"].get("tags") or []))
    ]
    if tags:
        conn.execute(insert(DagTag), tags)

    versions: dict[str, dict[str, Any]] = {}
    for dag_id, (data, file_digest) in by_id.items():
        digest = dag_hash(data)
        previous = latest.get(dag_id)
        if previous is not None and previous[2] == digest:
            continue
        versions[dag_id] = {
            "dag_id": dag_id,
            "version": previous[1] + 1 if previous is not None else 1,
            "data": data,
            "dag_hash": digest,
            "file_hash": file_digest,
            "fileloc": data["dag"].get("fileloc"),
            "created_at": now,
        }
    new_ids: dict[str, int] = {}
    if versions:
        returned = conn.execute(
            insert(SerializedDagModel).returning(SerializedDagModel.dag_id, SerializedDagModel.id),
            list(versions.values()),
        )
        new_ids = {row.dag_id: int(row.id) for row in returned}

    _sync_code(conn, {data["dag"].get("fileloc"): digest for data, digest in by_id.values()})

    result = {}
    for dag_id in dag_ids:
        if dag_id in versions:
            serialized_id, version = new_ids[dag_id], int(versions[dag_id]["version"])
        else:
            serialized_id, version = latest[dag_id][0], latest[dag_id][1]
        result[dag_id] = StoredDag(
            dag_id=dag_id,
            serialized_id=serialized_id,
            version=version,
            created=dag_id not in active,
            reactivated=active.get(dag_id) is False,
            new_version=dag_id in versions,
        )
    return result


def sync_serialized_dag(
    conn: Connection, data: dict[str, Any], file_hash: str | None, paused_at_creation: bool
) -> int:
    """Upsert one serialized DAG; returns the id of its current serialized version."""
    stored = sync_serialized_dags(conn, [(data, file_hash)], paused_at_creation)
    return stored[str(data["dag"]["dag_id"])].serialized_id


def sync_dag(conn: Connection, dag: DAG, file_hash: str | None, paused_at_creation: bool) -> int:
    """Upsert one DAG object; returns the id of its current serialized version."""
    return sync_serialized_dag(conn, serialize_dag(dag), file_hash, paused_at_creation)


def _sync_code(conn: Connection, hashes: dict[str | None, str | None]) -> None:
    """Store the source of each file whose hash differs from the stored one."""
    wanted = {fileloc: digest for fileloc, digest in hashes.items() if fileloc and digest}
    stored: dict[str, str] = {}
    for chunk in _chunks(list(wanted)):
        rows = conn.execute(select(DagCode.fileloc, DagCode.file_hash).where(DagCode.fileloc.in_(chunk)))
        stored.update({row.fileloc: row.file_hash for row in rows})
    inserts, updates = [], []
    now = utcnow()
    for fileloc, digest in wanted.items():
        if stored.get(fileloc) == digest:
            continue
        try:
            source = Path(fileloc).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if fileloc in stored:
            updates.append({"b_fileloc": fileloc, "b_hash": digest, "b_source": source, "b_now": now})
        else:
            inserts.append(
                {"fileloc": fileloc, "file_hash": digest, "source_code": source, "last_updated": now}
            )
    if inserts:
        conn.execute(insert(DagCode), inserts)
    if updates:
        conn.execute(
            update(DagCode)
            .where(DagCode.fileloc == bindparam("b_fileloc"))
            .values(
                file_hash=bindparam("b_hash"),
                source_code=bindparam("b_source"),
                last_updated=bindparam("b_now"),
            ),
            updates,
        )


def sync_dagbag(conn: Connection, bag: DagBag, paused_at_creation: bool = True) -> dict[str, int]:
    """Store every DAG of the bag and the bag's import errors; returns serialized ids by dag_id."""
    items = [(serialize_dag(dag), bag.file_hashes.get(dag.fileloc)) for dag in bag.dags.values()]
    stored = sync_serialized_dags(conn, items, paused_at_creation)
    ids = {dag_id: stored[dag_id].serialized_id for dag_id in bag.dags}
    processed = [
        f for f in bag.files if f in bag.import_errors or any(d.fileloc == f for d in bag.dags.values())
    ]
    sync_import_errors(conn, processed, bag.import_errors)
    mark_import_errors(conn, bag.import_errors)
    return ids
