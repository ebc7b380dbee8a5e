from __future__ import annotations

from collections.abc import Iterator

import pytest

from updraft.core import fernet
from updraft.sdk import secrets


@pytest.fixture(autouse=True)
def _restore_secrets_chain() -> Iterator[None]:
    """Tests install their own chains and keys; put the process's back afterwards."""
    saved = secrets.backends()
    fernet.reset_cache()
    yield
    secrets.install_backends(saved)
    fernet.reset_cache()
