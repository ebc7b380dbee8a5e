"""The authoring layer: everything a DAG file needs, and nothing of the runtime.

Pure Python: no SQLAlchemy, no web, no Celery. ``updraft.core`` builds on it, never the reverse.
"""
