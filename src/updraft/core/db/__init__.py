"""The metadata database: column types, ORM models, engines/sessions and schema migrations.

Import the submodule you need (``types``, ``models``, ``engine``, ``migrate``); this package itself
imports nothing, so that importing ``updraft.core.db.engine`` stays cheap.
"""
