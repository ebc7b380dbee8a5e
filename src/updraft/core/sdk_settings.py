"""Copies the configuration values the authoring layer needs into ``updraft.sdk.settings``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from updraft.core.config import conf
from updraft.sdk.settings import settings


def configure_sdk() -> None:
    """Call once at process start, before DAG files are imported."""
    tz_name = conf.get("core", "default_timezone", fallback="utc")
    settings.default_timezone = ZoneInfo("UTC" if tz_name.lower() in ("utc", "system") else tz_name)
    settings.create_cron_data_intervals = conf.getboolean(
        "scheduler", "create_cron_data_intervals", fallback=False
    )
    settings.create_delta_data_intervals = conf.getboolean(
        "scheduler", "create_delta_data_intervals", fallback=False
    )
    settings.default_retries = conf.getint("core", "default_task_retries", fallback=0)
    settings.default_retry_delay_s = conf.getfloat("core", "default_task_retry_delay", fallback=300.0)
    settings.max_retry_delay_s = conf.getfloat("core", "max_task_retry_delay", fallback=86400.0)
