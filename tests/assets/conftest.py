"""The scheduler fixtures of tests/scheduler: a real scheduler process on SQLite and PostgreSQL."""

from tests.scheduler.conftest import env, scheduler

__all__ = ["env", "scheduler"]
