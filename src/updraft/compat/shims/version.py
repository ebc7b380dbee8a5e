"""The Airflow version this layer stands in for, and the version flags providers check."""

from __future__ import annotations

from updraft.compat.paths import AIRFLOW_VERSION

__version__ = AIRFLOW_VERSION
AIRFLOW_V_3_0_PLUS = True
AIRFLOW_V_3_1_PLUS = True
AIRFLOW_V_3_2_PLUS = False
