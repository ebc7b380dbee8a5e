"""``airflow.utils.dates``: ``days_ago`` and the cron presets, for Airflow 2 DAG files."""

from __future__ import annotations

import datetime as dt

from updraft.sdk.timetables import CRON_PRESETS

__all__ = ["cron_presets", "days_ago"]

cron_presets = dict(CRON_PRESETS)


def days_ago(n: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0) -> dt.datetime:
    """Midnight UTC today (or the given time of day) minus ``n`` days, as Airflow 2 computes it."""
    today = dt.datetime.now(dt.timezone.utc).replace(
        hour=hour, minute=minute, second=second, microsecond=microsecond
    )
    return today - dt.timedelta(days=n)
