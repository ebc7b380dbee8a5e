"""Scheduler tables: pools (with the default pool), jobs with heartbeats, sensor reschedules,
and the heartbeat of running task instances.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("task_instance") as batch:
        batch.add_column(sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=True))

    pool = op.create_table(
        "slot_pool",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pool", sa.String(256), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("include_deferred", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slot_pool"),
        sa.UniqueConstraint("pool", name="uq_slot_pool_pool"),
    )
    op.bulk_insert(
        pool,
        [{"pool": "default_pool", "slots": 128, "description": "Default pool", "include_deferred": False}],
    )

    op.create_table(
        "job",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("job_type", sa.String(30), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("hostname", sa.String(500), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latest_heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job"),
    )
    op.create_index("ix_job_type_state_heartbeat", "job", ["job_type", "state", "latest_heartbeat"])

    op.create_table(
        "task_reschedule",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("task_id", sa.String(250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("reschedule_date", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_task_reschedule"),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id"],
            ["dag_run.dag_id", "dag_run.run_id"],
            name="fk_task_reschedule_dag_run",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_task_reschedule_ti", "task_reschedule", ["dag_id", "run_id", "task_id", "map_index", "try_number"]
    )


def downgrade() -> None:
    op.drop_index("ix_task_reschedule_ti", table_name="task_reschedule")
    op.drop_table("task_reschedule")
    op.drop_index("ix_job_type_state_heartbeat", table_name="job")
    op.drop_table("job")
    op.drop_table("slot_pool")
    with op.batch_alter_table("task_instance") as batch:
        batch.drop_column("last_heartbeat_at")
