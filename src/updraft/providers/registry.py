"""Which hook class serves which connection type: ``conn_type -> "module:Class"``.

Hook modules are imported only when a connection of their type is tested, so a provider whose
optional dependency is missing breaks nothing else.
"""

from __future__ import annotations

import importlib
import json
import os
import uuid
from typing import Any

from updraft.sdk import secrets
from updraft.sdk.connection import Connection

__all__ = ["HOOKS", "HookNotFound", "hook_class", "test_connection"]

HOOKS: dict[str, str] = {
    "postgres": "updraft.providers.postgres:PostgresHook",
    "postgresql": "updraft.providers.postgres:PostgresHook",
    "sqlite": "updraft.providers.sqlite:SqliteHook",
    "http": "updraft.providers.http:HttpHook",
    "https": "updraft.providers.http:HttpHook",
    "smtp": "updraft.providers.smtp:SmtpHook",
    "slack": "updraft.providers.slack:SlackHook",
}


class HookNotFound(LookupError):
    """No hook is registered for a connection type, or its module cannot be imported."""


def hook_class(conn_type: str | None) -> Any:
    """The hook class registered for ``conn_type``."""
    target = HOOKS.get((conn_type or "").lower())
    if target is None:
        known = ", ".join(sorted(HOOKS))
        raise HookNotFound(f"no hook is registered for connection type {conn_type!r} (known types: {known})")
    module_name, _, class_name = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise HookNotFound(
            f"the hook for connection type {conn_type!r} ({target}) cannot be loaded: {exc}"
        ) from None


def _make_hook(cls: Any, conn_id: str) -> Any:
    attr = getattr(cls, "conn_name_attr", "")
    return cls(**{attr: conn_id}) if attr else cls(conn_id)


def test_connection(conn_id: str, connection: Connection | None = None) -> tuple[bool, str]:
    """(ok, message) from the hook's ``test_connection()`` for ``conn_id``.

    With ``connection`` (one not stored, e.g. sent to the API), it is offered to the hook through a
    one-off ``UPDRAFT_CONN_<random id>`` env var, which env-var lookup (first in the chain) finds.
    """
    if connection is None:
        connection = secrets.get_connection(conn_id)
        return _run(hook_class(connection.conn_type), conn_id)
    cls = hook_class(connection.conn_type)
    transient = f"updraft_test_{uuid.uuid4().hex}"
    name = f"UPDRAFT_CONN_{transient.upper()}"
    os.environ[name] = json.dumps(connection.to_dict())
    try:
        return _run(cls, transient)
    finally:
        os.environ.pop(name, None)


def _run(cls: Any, conn_id: str) -> tuple[bool, str]:
    try:
        ok, message = _make_hook(cls, conn_id).test_connection()
    except Exception as exc:  # noqa: BLE001 - a hook's failure is reported to the user, not raised
        return False, f"{type(exc).__name__}: {exc}"
    return bool(ok), str(message)
