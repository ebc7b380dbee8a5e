"""SQL operators: ``SQLExecuteQueryOperator`` and the data-quality checks (see ``operators.sql``)."""
