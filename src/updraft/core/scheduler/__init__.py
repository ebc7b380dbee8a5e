"""The scheduler: creates DAG runs on time, decides which task instances run, hands them to an executor."""
