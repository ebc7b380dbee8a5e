"""``PostgresHook`` lives in ``hooks.postgres`` (Airflow's module path)."""
