"""``PostgresOperator`` lives in ``operators.postgres`` (Airflow's module path)."""
