"""Storing parsed DAGs in the metadata DB: the dag row, a new serialized version when it changed,
the file's source code, and the file's import error (or its removal once the file is fixed)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select, update

from updraft.core.dagbag import DagBag
from updraft.core.db.models import DagCode, DagModel, DagTag, ParseImportError, SerializedDagModel
from updraft.core.db.types import utcnow
from updraft.sdk.dag import DAG
from updraft.sdk.serialization import dag_hash, serialize_dag
from updraft.sdk.timetables import describe_schedule


def sync_import_errors(conn: Connection, processed_files: Iterable[str], errors: dict[str, str]) -> None:
    """Replace the import errors of the files just processed (a fixed file loses its error)."""
    files = list(processed_files)
    if files:
        conn.execute(delete(ParseImportError).where(ParseImportError.filename.in_(files)))
    now = utcnow()
    rows = [{"filename": f, "stacktrace": text, "timestamp": now} for f, text in errors.items()]
    if rows:
        conn.execute(insert(ParseImportError), rows)


def sync_dag(conn: Connection, dag: DAG, file_hash: str | None, paused_at_creation: bool) -> int:
    """Upsert one DAG; returns the id of its current serialized version."""
    data = serialize_dag(dag)
    digest = dag_hash(data)
    now = utcnow()
    owners = ", ".join(data["dag"].get("owners") or [])
    values = {
        "fileloc": dag.fileloc,
        "relative_fileloc": Path(dag.fileloc).name,
        "is_active": True,
        "owners": owners,
        "description": dag.description,
        "timetable_summary": describe_schedule(dag.timetable),
        "timetable_description": dag.timetable.description,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "has_import_errors": False,
        "last_parsed_time": now,
    }
    exists = conn.scalar(select(DagModel.dag_id).where(DagModel.dag_id == dag.dag_id))
    if exists is None:
        paused = (
            dag.is_paused_upon_creation if dag.is_paused_upon_creation is not None else paused_at_creation
        )
        conn.execute(insert(DagModel), {"dag_id": dag.dag_id, "is_paused": paused, **values})
    else:
        conn.execute(update(DagModel).where(DagModel.dag_id == dag.dag_id).values(**values))
    conn.execute(delete(DagTag).where(DagTag.dag_id == dag.dag_id))
    if dag.tags:
        conn.execute(insert(DagTag), [{"dag_id": dag.dag_id, "name": tag} for tag in dag.tags])

    latest = conn.execute(
        select(SerializedDagModel.id, SerializedDagModel.version, SerializedDagModel.dag_hash)
        .where(SerializedDagModel.dag_id == dag.dag_id)
        .order_by(SerializedDagModel.version.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.dag_hash == digest:
        serialized_id = int(latest.id)
    else:
        version = (latest.version + 1) if latest is not None else 1
        serialized_id = int(
            conn.execute(
                insert(SerializedDagModel).returning(SerializedDagModel.id),
                {
                    "dag_id": dag.dag_id,
                    "version": version,
                    "data": data,
                    "dag_hash": digest,
                    "file_hash": file_hash,
                    "fileloc": dag.fileloc,
                    "created_at": now,
                },
            ).scalar_one()
        )
    if file_hash is not None:
        _sync_code(conn, dag.fileloc, file_hash)
    return serialized_id


def _sync_code(conn: Connection, fileloc: str, file_hash: str) -> None:
    stored = conn.scalar(select(DagCode.file_hash).where(DagCode.fileloc == fileloc))
    if stored == file_hash:
        return
    try:
        source = Path(fileloc).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    if stored is None:
        conn.execute(
            insert(DagCode),
            {"fileloc": fileloc, "file_hash": file_hash, "source_code": source, "last_updated": utcnow()},
        )
    else:
        conn.execute(
            update(DagCode)
            .where(DagCode.fileloc == fileloc)
            .values(file_hash=file_hash, source_code=source, last_updated=utcnow())
        )


def sync_dagbag(conn: Connection, bag: DagBag, paused_at_creation: bool = True) -> dict[str, int]:
    """Store every DAG of the bag and the bag's import errors; returns serialized ids by dag_id."""
    ids = {
        dag_id: sync_dag(conn, dag, bag.file_hashes.get(dag.fileloc), paused_at_creation)
        for dag_id, dag in bag.dags.items()
    }
    processed = [
        f for f in bag.files if f in bag.import_errors or any(d.fileloc == f for d in bag.dags.values())
    ]
    sync_import_errors(conn, processed, bag.import_errors)
    if bag.import_errors:
        conn.execute(
            update(DagModel)
            .where(DagModel.fileloc.in_(list(bag.import_errors)))
            .values(has_import_errors=True)
        )
    return ids
