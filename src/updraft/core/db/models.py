"""ORM models of the metadata database: tables, columns, keys and relationships, nothing else.

Behaviour (queries, state changes, serialisation) lives in other ``updraft.core`` modules. Every
constraint is named by :data:`NAMING_CONVENTION` or explicitly, so migrations can refer to it.
A change here needs a new revision in ``migrations/versions`` (a test checks they match).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from updraft.core.db.types import JsonDict, UtcDateTime, utcnow

__all__ = [
    "NAMING_CONVENTION",
    "AssetDagRunQueue",
    "AssetEvent",
    "AssetModel",
    "Base",
    "Connection",
    "DagCode",
    "DagModel",
    "DagRun",
    "DagRunAssetEvent",
    "DagScheduleAssetReference",
    "DagTag",
    "ParseImportError",
    "SerializedDagModel",
    "TaskInstance",
    "TaskInstanceHistory",
    "TaskReschedule",
    "Pool",
    "Job",
    "Log",
    "User",
    "UserRole",
    "Variable",
    "XCom",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: An autoincrement id: INTEGER on SQLite (so it aliases the rowid), BIGINT on PostgreSQL.
BigId = Integer().with_variant(BigInteger(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every updraft table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _dag_run_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["dag_id", "run_id"],
        ["dag_run.dag_id", "dag_run.run_id"],
        name=f"fk_{table}_dag_run",
        ondelete="CASCADE",
    )


class DagModel(Base):
    """One DAG known to updraft: its file, pause flag and the next run the scheduler will create."""

    __tablename__ = "dag"

    dag_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    fileloc: Mapped[str | None] = mapped_column(Text)
    relative_fileloc: Mapped[str | None] = mapped_column(Text)
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    owners: Mapped[str | None] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(Text)
    timetable_summary: Mapped[str | None] = mapped_column(String(1000))
    timetable_description: Mapped[str | None] = mapped_column(String(1000))
    max_active_runs: Mapped[int | None] = mapped_column(Integer)
    max_active_tasks: Mapped[int | None] = mapped_column(Integer)
    has_import_errors: Mapped[bool] = mapped_column(Boolean, default=False)
    last_parsed_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_data_interval_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_data_interval_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_create_after: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Set on every insert and update (SQLAlchemy's onupdate): readers cache pages of DAGs by it.
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    tags: Mapped[list[DagTag]] = relationship(
        back_populates="dag", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (Index("ix_dag_next_dagrun_create_after", "next_dagrun_create_after"),)


class DagTag(Base):
    """A tag of a DAG."""

    __tablename__ = "dag_tag"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    dag_id: Mapped[str] = mapped_column(
        String(250), ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )

    dag: Mapped[DagModel] = relationship(back_populates="tags")


class SerializedDagModel(Base):
    """One version of a DAG's serialized JSON, as written by the DAG processor."""

    __tablename__ = "serialized_dag"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(250), ForeignKey("dag.dag_id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[Any] = mapped_column(JsonDict)
    dag_hash: Mapped[str] = mapped_column(String(64))
    file_hash: Mapped[str | None] = mapped_column(String(64))
    fileloc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("dag_id", "version"),)


class DagCode(Base):
    """The source code of a DAG file, keyed by its path."""

    __tablename__ = "dag_code"

    fileloc: Mapped[str] = mapped_column(Text, primary_key=True)
    file_hash: Mapped[str] = mapped_column(String(64))
    source_code: Mapped[str] = mapped_column(Text)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DagRun(Base):
    """One run of a DAG."""

    __tablename__ = "dag_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250))
    logical_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    data_interval_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    data_interval_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    run_after: Mapped[datetime | None] = mapped_column(UtcDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    run_type: Mapped[str] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(50))
    conf: Mapped[Any | None] = mapped_column(JsonDict)
    triggered_by: Mapped[str | None] = mapped_column(String(50))
    serialized_dag_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("serialized_dag.id", ondelete="SET NULL")
    )
    last_scheduling_decision: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    task_instances: Mapped[list[TaskInstance]] = relationship(
        back_populates="dag_run", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("dag_id", "run_id"),
        UniqueConstraint("dag_id", "logical_date"),
        Index("ix_dag_run_dag_id_state", "dag_id", "state"),
    )


class TaskInstance(Base):
    """One task in one DAG run at one map index (``-1`` when not mapped); its latest try."""

    __tablename__ = "task_instance"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250))
    task_id: Mapped[str] = mapped_column(String(250))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    try_number: Mapped[int] = mapped_column(Integer, default=0)
    max_tries: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str | None] = mapped_column(String(50))
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    queued_dttm: Mapped[datetime | None] = mapped_column(UtcDateTime)
    scheduled_dttm: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration: Mapped[float | None] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(1000))
    custom_operator_name: Mapped[str | None] = mapped_column(String(1000))
    pool: Mapped[str] = mapped_column(String(256), default="default_pool")
    pool_slots: Mapped[int] = mapped_column(Integer, default=1)
    queue: Mapped[str | None] = mapped_column(String(256))
    priority_weight: Mapped[int | None] = mapped_column(Integer)
    hostname: Mapped[str | None] = mapped_column(String(1000))
    pid: Mapped[int | None] = mapped_column(Integer)
    executor: Mapped[str | None] = mapped_column(String(1000))
    next_retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reschedule_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cpu_time_s: Mapped[float | None] = mapped_column(Float)
    peak_rss_bytes: Mapped[int | None] = mapped_column(BigInteger)
    rendered_fields: Mapped[Any | None] = mapped_column(JsonDict)
    note: Mapped[str | None] = mapped_column(Text)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    dag_run: Mapped[DagRun] = relationship(back_populates="task_instances")

    __table_args__ = (
        UniqueConstraint("dag_id", "run_id", "task_id", "map_index", name="uq_task_instance_key"),
        Index("ix_task_instance_dag_id_run_id_state", "dag_id", "run_id", "state"),
        Index("ix_task_instance_state", "state"),
        _dag_run_fk("task_instance"),
    )


class TaskInstanceHistory(Base):
    """One finished try of a task instance; every try has a row, the latest one included."""

    __tablename__ = "task_instance_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250))
    task_id: Mapped[str] = mapped_column(String(250))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    try_number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(50))
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration: Mapped[float | None] = mapped_column(Float)
    hostname: Mapped[str | None] = mapped_column(String(1000))
    pid: Mapped[int | None] = mapped_column(Integer)
    cpu_time_s: Mapped[float | None] = mapped_column(Float)
    peak_rss_bytes: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(String(1000))
    pool: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (
        UniqueConstraint(
            "dag_id", "run_id", "task_id", "map_index", "try_number", name="uq_task_instance_history_try"
        ),
        _dag_run_fk("task_instance_history"),
    )


class XCom(Base):
    """A value passed between tasks; ``value`` is already-encoded JSON text."""

    __tablename__ = "xcom"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250))
    task_id: Mapped[str] = mapped_column(String(250))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    key: Mapped[str] = mapped_column(String(512))
    value: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("dag_id", "run_id", "task_id", "map_index", "key", name="uq_xcom_key"),
        _dag_run_fk("xcom"),
    )


class ParseImportError(Base):
    """The error of one DAG file that failed to import."""

    __tablename__ = "import_error"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(Text)
    stacktrace: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Variable(Base):
    """A key/value setting available to DAGs as ``Variable.get(key)``."""

    __tablename__ = "variable"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(250), unique=True)
    val: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    is_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)


class Connection(Base):
    """Credentials and address of an outside system, referred to by ``conn_id``."""

    __tablename__ = "connection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conn_id: Mapped[str] = mapped_column(String(250), unique=True)
    conn_type: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(500))
    schema: Mapped[str | None] = mapped_column(String(500))
    login: Mapped[str | None] = mapped_column(Text)
    password: Mapped[str | None] = mapped_column(Text)
    port: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[str | None] = mapped_column(Text)
    is_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    is_extra_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)


class Pool(Base):
    """A named number of slots that running task instances take (``pool_slots`` each)."""

    __tablename__ = "slot_pool"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pool: Mapped[str] = mapped_column(String(256), unique=True)
    slots: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str | None] = mapped_column(Text)
    include_deferred: Mapped[bool] = mapped_column(Boolean, default=False)


class Job(Base):
    """A running scheduler, DAG processor or worker, with its heartbeat."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_type: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))
    hostname: Mapped[str | None] = mapped_column(String(500))
    pid: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    latest_heartbeat: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_job_type_state_heartbeat", "job_type", "state", "latest_heartbeat"),)


class TaskReschedule(Base):
    """One poke of a sensor in reschedule mode that asked to be run again later."""

    __tablename__ = "task_reschedule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250))
    task_id: Mapped[str] = mapped_column(String(250))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    try_number: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[datetime] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime] = mapped_column(UtcDateTime)
    duration: Mapped[float] = mapped_column(Float)
    reschedule_date: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_task_reschedule_ti", "dag_id", "run_id", "task_id", "map_index", "try_number"),
        _dag_run_fk("task_reschedule"),
    )


class User(Base):
    """A person who may log in to the web UI and the REST API; roles are in ``ab_user_role``."""

    __tablename__ = "ab_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(256), unique=True)
    first_name: Mapped[str] = mapped_column(String(256))
    last_name: Mapped[str] = mapped_column(String(256))
    email: Mapped[str] = mapped_column(String(256), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)


class UserRole(Base):
    """One role (``Admin``, ``Op``, ``User``, ``Viewer``) granted to one user."""

    __tablename__ = "ab_user_role"

    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(64), primary_key=True)


class Log(Base):
    """One audit-log event: who did what, when, from where, to which DAG/run/task."""

    __tablename__ = "log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dttm: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(60))
    owner: Mapped[str | None] = mapped_column(String(500))
    dag_id: Mapped[str | None] = mapped_column(String(250))
    run_id: Mapped[str | None] = mapped_column(String(250))
    task_id: Mapped[str | None] = mapped_column(String(250))
    map_index: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[str | None] = mapped_column(Text)
    client_ip: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_log_dttm", "dttm"),
        Index("ix_log_dag_id_dttm", "dag_id", "dttm"),
        Index("ix_log_event_dttm", "event", "dttm"),
        Index("ix_log_owner_dttm", "owner", "dttm"),
    )


class AssetModel(Base):
    """An asset some task updates or some DAG is scheduled on, identified by name and URI."""

    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(1500))
    uri: Mapped[str] = mapped_column(String(1500))
    group: Mapped[str] = mapped_column(String(1500), default="asset")
    extra: Mapped[Any | None] = mapped_column(JsonDict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("name", "uri"),)


class AssetEvent(Base):
    """One update of an asset: which task instance made it, when, with what extra data."""

    __tablename__ = "asset_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    asset_id: Mapped[int] = mapped_column(BigId, ForeignKey("asset.id", ondelete="CASCADE"))
    extra: Mapped[Any | None] = mapped_column(JsonDict)
    source_dag_id: Mapped[str | None] = mapped_column(String(250))
    source_run_id: Mapped[str | None] = mapped_column(String(250))
    source_task_id: Mapped[str | None] = mapped_column(String(250))
    source_map_index: Mapped[int | None] = mapped_column(Integer)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_asset_event_asset_id_timestamp", "asset_id", "timestamp"),)


class DagScheduleAssetReference(Base):
    """A DAG scheduled on an asset (kept by the scheduler from each DAG's stored version)."""

    __tablename__ = "dag_schedule_asset_reference"

    asset_id: Mapped[int] = mapped_column(BigId, ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)
    dag_id: Mapped[str] = mapped_column(
        String(250), ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_dag_schedule_asset_reference_dag_id", "dag_id"),)


class AssetDagRunQueue(Base):
    """An asset event waiting to be consumed by a run of ``target_dag_id``."""

    __tablename__ = "asset_dag_run_queue"

    target_dag_id: Mapped[str] = mapped_column(
        String(250), ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("asset_event.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[int] = mapped_column(BigId, ForeignKey("asset.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DagRunAssetEvent(Base):
    """An asset event that triggered (was consumed by) a DAG run."""

    __tablename__ = "dag_run_asset_event"

    dag_run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("dag_run.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("asset_event.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_dag_run_asset_event_event_id", "event_id"),)
