"""Alembic environment and revision scripts of the metadata database (run via ``migrate``)."""
