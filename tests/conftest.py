"""Fixtures for every test: the DB backends, and a secrets chain that does not leak between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from updraft.sdk import secrets

pytest_plugins = ["tests.db_backends"]


@pytest.fixture(autouse=True)
def _fresh_secrets_chain() -> Iterator[None]:
    """Each test starts with env vars only (a runtime it starts installs the DB backend itself)."""
    before = secrets.backends()
    secrets.install_backends([secrets.EnvironmentVariablesBackend()])
    yield
    secrets.install_backends(before)
