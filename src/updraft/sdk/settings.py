"""Process-wide settings the authoring layer needs, set by the runtime from its configuration.

The SDK may not read updraft's configuration itself (it sits below ``updraft.core``), so the
runtime copies the few values that change how a DAG file is interpreted into this object once
at start-up. The defaults here equal the configuration defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone, tzinfo


@dataclass
class SdkSettings:
    default_timezone: tzinfo = timezone.utc
    create_cron_data_intervals: bool = False
    create_delta_data_intervals: bool = False
    default_owner: str = "airflow"
    default_retries: int = 0
    default_retry_delay_s: float = 300.0
    max_retry_delay_s: float = 86400.0


settings = SdkSettings()
