"""The initial schema: DAGs, serialized DAGs, runs, task instances, XComs, variables, connections.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Types are spelled out here (not imported from the models) so this revision never changes:
``UtcDateTime`` is ``DateTime(timezone=True)``, ``JsonDict`` is ``Text``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("task_id", sa.String(250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
    ]


def _dag_run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["dag_id", "run_id"],
        ["dag_run.dag_id", "dag_run.run_id"],
        name=f"fk_{table}_dag_run",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "dag",
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("fileloc", sa.Text()),
        sa.Column("relative_fileloc", sa.Text()),
        sa.Column("is_paused", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("owners", sa.String(2000)),
        sa.Column("description", sa.Text()),
        sa.Column("timetable_summary", sa.String(1000)),
        sa.Column("timetable_description", sa.String(1000)),
        sa.Column("max_active_runs", sa.Integer()),
        sa.Column("max_active_tasks", sa.Integer()),
        sa.Column("has_import_errors", sa.Boolean(), nullable=False),
        _ts("last_parsed_time"),
        _ts("next_dagrun"),
        _ts("next_dagrun_data_interval_start"),
        _ts("next_dagrun_data_interval_end"),
        _ts("next_dagrun_create_after"),
        sa.PrimaryKeyConstraint("dag_id", name="pk_dag"),
    )
    op.create_index("ix_dag_next_dagrun_create_after", "dag", ["next_dagrun_create_after"])

    op.create_table(
        "dag_tag",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", "dag_id", name="pk_dag_tag"),
        sa.ForeignKeyConstraint(["dag_id"], ["dag.dag_id"], name="fk_dag_tag_dag_id_dag", ondelete="CASCADE"),
    )

    op.create_table(
        "serialized_dag",
        _id(),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("dag_hash", sa.String(64), nullable=False),
        sa.Column("file_hash", sa.String(64)),
        sa.Column("fileloc", sa.Text()),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_serialized_dag"),
        sa.UniqueConstraint("dag_id", "version", name="uq_serialized_dag_dag_id_version"),
        sa.ForeignKeyConstraint(
            ["dag_id"], ["dag.dag_id"], name="fk_serialized_dag_dag_id_dag", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "dag_code",
        sa.Column("fileloc", sa.Text(), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("source_code", sa.Text(), nullable=False),
        _ts("last_updated", nullable=False),
        sa.PrimaryKeyConstraint("fileloc", name="pk_dag_code"),
    )

    op.create_table(
        "dag_run",
        _id(),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        _ts("logical_date"),
        _ts("data_interval_start"),
        _ts("data_interval_end"),
        _ts("run_after"),
        _ts("queued_at"),
        _ts("start_date"),
        _ts("end_date"),
        sa.Column("run_type", sa.String(50), nullable=False),
        sa.Column("state", sa.String(50), nullable=False),
        sa.Column("conf", sa.Text()),
        sa.Column("triggered_by", sa.String(50)),
        sa.Column("serialized_dag_id", _ID),
        _ts("last_scheduling_decision"),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_dag_run"),
        sa.UniqueConstraint("dag_id", "run_id", name="uq_dag_run_dag_id_run_id"),
        sa.UniqueConstraint("dag_id", "logical_date", name="uq_dag_run_dag_id_logical_date"),
        sa.ForeignKeyConstraint(
            ["serialized_dag_id"],
            ["serialized_dag.id"],
            name="fk_dag_run_serialized_dag_id_serialized_dag",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_dag_run_dag_id_state", "dag_run", ["dag_id", "state"])

    op.create_table(
        "task_instance",
        _id(),
        *_key_columns(),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("max_tries", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(50)),
        _ts("start_date"),
        _ts("end_date"),
        _ts("queued_dttm"),
        _ts("scheduled_dttm"),
        sa.Column("duration", sa.Float()),
        sa.Column("operator", sa.String(1000)),
        sa.Column("custom_operator_name", sa.String(1000)),
        sa.Column("pool", sa.String(256), nullable=False),
        sa.Column("pool_slots", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(256)),
        sa.Column("priority_weight", sa.Integer()),
        sa.Column("hostname", sa.String(1000)),
        sa.Column("pid", sa.Integer()),
        sa.Column("executor", sa.String(1000)),
        _ts("next_retry_at"),
        _ts("reschedule_at"),
        sa.Column("cpu_time_s", sa.Float()),
        sa.Column("peak_rss_bytes", sa.BigInteger()),
        sa.Column("rendered_fields", sa.Text()),
        sa.Column("note", sa.Text()),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_task_instance"),
        sa.UniqueConstraint("dag_id", "run_id", "task_id", "map_index", name="uq_task_instance_key"),
        _dag_run_fk("task_instance"),
    )
    op.create_index("ix_task_instance_dag_id_run_id_state", "task_instance", ["dag_id", "run_id", "state"])
    op.create_index("ix_task_instance_state", "task_instance", ["state"])

    op.create_table(
        "task_instance_history",
        _id(),
        *_key_columns(),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(50)),
        _ts("start_date"),
        _ts("end_date"),
        sa.Column("duration", sa.Float()),
        sa.Column("hostname", sa.String(1000)),
        sa.Column("pid", sa.Integer()),
        sa.Column("cpu_time_s", sa.Float()),
        sa.Column("peak_rss_bytes", sa.BigInteger()),
        sa.Column("error", sa.Text()),
        sa.Column("operator", sa.String(1000)),
        sa.Column("pool", sa.String(256)),
        sa.PrimaryKeyConstraint("id", name="pk_task_instance_history"),
        sa.UniqueConstraint(
            "dag_id", "run_id", "task_id", "map_index", "try_number", name="uq_task_instance_history_try"
        ),
        _dag_run_fk("task_instance_history"),
    )

    op.create_table(
        "xcom",
        _id(),
        *_key_columns(),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("value", sa.Text()),
        _ts("timestamp", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_xcom"),
        sa.UniqueConstraint("dag_id", "run_id", "task_id", "map_index", "key", name="uq_xcom_key"),
        _dag_run_fk("xcom"),
    )

    op.create_table(
        "import_error",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("stacktrace", sa.Text()),
        _ts("timestamp", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_import_error"),
    )

    op.create_table(
        "variable",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("val", sa.Text()),
        sa.Column("description", sa.Text()),
        sa.Column("is_encrypted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_variable"),
        sa.UniqueConstraint("key", name="uq_variable_key"),
    )

    op.create_table(
        "connection",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conn_id", sa.String(250), nullable=False),
        sa.Column("conn_type", sa.String(500), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("host", sa.String(500)),
        sa.Column("schema", sa.String(500)),
        sa.Column("login", sa.Text()),
        sa.Column("password", sa.Text()),
        sa.Column("port", sa.Integer()),
        sa.Column("extra", sa.Text()),
        sa.Column("is_encrypted", sa.Boolean(), nullable=False),
        sa.Column("is_extra_encrypted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_connection"),
        sa.UniqueConstraint("conn_id", name="uq_connection_conn_id"),
    )


def downgrade() -> None:
    for table in (
        "connection",
        "variable",
        "import_error",
        "xcom",
        "task_instance_history",
        "task_instance",
        "dag_run",
        "dag_code",
        "serialized_dag",
        "dag_tag",
        "dag",
    ):
        op.drop_table(table)
