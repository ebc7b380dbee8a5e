"""The end-to-end masking tests run DAGs with the ``runs`` fixture of ``tests/runs``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runs.conftest import runs
from updraft.sdk.masking import get_masker

__all__ = ["runs"]


@pytest.fixture(autouse=True)
def _fresh_masker() -> Iterator[None]:
    """The masker is process-wide: each test starts and ends with no secret registered."""
    get_masker().clear()
    yield
    get_masker().clear()
