"""Parts shared by providers: SQL for any DB-API 2 database (``common.sql``)."""
