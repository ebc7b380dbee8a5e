"""The sensor tests reuse the end-to-end run helpers of ``tests.runs`` (the ``runs`` fixture)."""

from __future__ import annotations

from tests.runs.conftest import runs

__all__ = ["runs"]
