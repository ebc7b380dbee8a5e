"""Assets: the assets themselves, their events, which DAG is scheduled on which asset, the events
waiting for each consumer DAG, and the events each asset-triggered run consumed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, target_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{target_column}"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "asset",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(1500), nullable=False),
        sa.Column("uri", sa.String(1500), nullable=False),
        sa.Column("group", sa.String(1500), nullable=False),
        sa.Column("extra", sa.Text()),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_asset"),
        sa.UniqueConstraint("name", "uri", name="uq_asset_name_uri"),
    )
    op.create_table(
        "asset_event",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("asset_id", _ID, nullable=False),
        sa.Column("extra", sa.Text()),
        sa.Column("source_dag_id", sa.String(250)),
        sa.Column("source_run_id", sa.String(250)),
        sa.Column("source_task_id", sa.String(250)),
        sa.Column("source_map_index", sa.Integer()),
        _ts("timestamp", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_asset_event"),
        _fk("asset_event", "asset_id", "asset", "id"),
    )
    op.create_index("ix_asset_event_asset_id_timestamp", "asset_event", ["asset_id", "timestamp"])
    op.create_table(
        "dag_schedule_asset_reference",
        sa.Column("asset_id", _ID, nullable=False),
        sa.Column("dag_id", sa.String(250), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("asset_id", "dag_id", name="pk_dag_schedule_asset_reference"),
        _fk("dag_schedule_asset_reference", "asset_id", "asset", "id"),
        _fk("dag_schedule_asset_reference", "dag_id", "dag", "dag_id"),
    )
    op.create_index("ix_dag_schedule_asset_reference_dag_id", "dag_schedule_asset_reference", ["dag_id"])
    op.create_table(
        "asset_dag_run_queue",
        sa.Column("target_dag_id", sa.String(250), nullable=False),
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("asset_id", _ID, nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("target_dag_id", "event_id", name="pk_asset_dag_run_queue"),
        _fk("asset_dag_run_queue", "target_dag_id", "dag", "dag_id"),
        _fk("asset_dag_run_queue", "event_id", "asset_event", "id"),
        _fk("asset_dag_run_queue", "asset_id", "asset", "id"),
    )
    op.create_table(
        "dag_run_asset_event",
        sa.Column("dag_run_id", _ID, nullable=False),
        sa.Column("event_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("dag_run_id", "event_id", name="pk_dag_run_asset_event"),
        _fk("dag_run_asset_event", "dag_run_id", "dag_run", "id"),
        _fk("dag_run_asset_event", "event_id", "asset_event", "id"),
    )
    op.create_index("ix_dag_run_asset_event_event_id", "dag_run_asset_event", ["event_id"])


def downgrade() -> None:
    for table in (
        "dag_run_asset_event",
        "asset_dag_run_queue",
        "dag_schedule_asset_reference",
        "asset_event",
        "asset",
    ):
        op.drop_table(table)
