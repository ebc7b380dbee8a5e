"""Alembic environment: runs the revisions on the connection that ``updraft.core.db.migrate`` opened.

There is no ``alembic.ini``; ``migrate`` builds the Alembic config in code and passes an open
connection (already inside a transaction that holds the migration lock) in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from updraft.core.db.models import Base

if context.is_offline_mode():
    raise RuntimeError("updraft migrations run online only: use updraft.core.db.migrate.migrate()")

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "no connection given: run migrations with updraft.core.db.migrate.migrate(engine), "
        "not the alembic command line"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only alter a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
