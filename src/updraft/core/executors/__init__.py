"""Executors: where task attempts run (the local executor forks one process per attempt)."""
