"""``SqliteHook`` lives in ``hooks.sqlite`` (Airflow's module path)."""
