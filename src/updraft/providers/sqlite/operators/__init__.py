"""``SqliteOperator`` lives in ``operators.sqlite`` (Airflow's module path)."""
