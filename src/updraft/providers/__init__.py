"""Hooks and operators for outside systems (``common.sql`` for any DB-API 2 database, postgres, sqlite...)."""
