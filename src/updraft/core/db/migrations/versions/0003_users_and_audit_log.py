"""Users and their roles (``ab_user``, ``ab_user_role``) and the audit log (``log``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ab_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(256), nullable=False),
        sa.Column("first_name", sa.String(256), nullable=False),
        sa.Column("last_name", sa.String(256), nullable=False),
        sa.Column("email", sa.String(256), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ab_user"),
        sa.UniqueConstraint("username", name="uq_ab_user_username"),
        sa.UniqueConstraint("email", name="uq_ab_user_email"),
    )
    op.create_table(
        "ab_user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_ab_user_role"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["ab_user.id"], name="fk_ab_user_role_user_id_ab_user", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("dttm", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(60), nullable=False),
        sa.Column("owner", sa.String(500), nullable=True),
        sa.Column("dag_id", sa.String(250), nullable=True),
        sa.Column("run_id", sa.String(250), nullable=True),
        sa.Column("task_id", sa.String(250), nullable=True),
        sa.Column("map_index", sa.Integer(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_log"),
    )
    op.create_index("ix_log_dttm", "log", ["dttm"])
    op.create_index("ix_log_dag_id_dttm", "log", ["dag_id", "dttm"])
    op.create_index("ix_log_event_dttm", "log", ["event", "dttm"])
    op.create_index("ix_log_owner_dttm", "log", ["owner", "dttm"])


def downgrade() -> None:
    op.drop_index("ix_log_owner_dttm", table_name="log")
    op.drop_index("ix_log_event_dttm", table_name="log")
    op.drop_index("ix_log_dag_id_dttm", table_name="log")
    op.drop_index("ix_log_dttm", table_name="log")
    op.drop_table("log")
    op.drop_table("ab_user_role")
    op.drop_table("ab_user")
