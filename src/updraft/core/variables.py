"""Reading and writing Variables through the secrets chain: ``UPDRAFT_VAR_<KEY>`` (or
``AIRFLOW_VAR_<KEY>``) env vars, the configured backend, then the metadata DB (values encrypted)."""

from __future__ import annotations

from typing import Any

from updraft.core.secrets_chain import ensure_secrets_chain
from updraft.sdk import secrets
from updraft.sdk.variable import NOTSET, Variable, VariableNotFound

__all__ = ["VariableAccessor", "VariableNotFound", "get_variable", "get_variable_text", "set_variable"]

_MISSING: Any = NOTSET


def get_variable_text(key: str) -> str | None:
    """The raw text of a variable, or None when no source has it."""
    ensure_secrets_chain()
    return secrets.get_variable(key)


def get_variable(key: str, default: Any = _MISSING, deserialize_json: bool = False) -> Any:
    ensure_secrets_chain()
    return Variable.get(key, default_var=default, deserialize_json=deserialize_json)


def set_variable(key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
    ensure_secrets_chain()
    Variable.set(key, value, description=description, serialize_json=serialize_json)


class _VariableAccessor:
    def __init__(self, deserialize_json: bool) -> None:
        self._json = deserialize_json

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return get_variable(key, deserialize_json=self._json)

    def get(self, key: str, default: Any = _MISSING) -> Any:
        return get_variable(key, default=default, deserialize_json=self._json)


class VariableAccessor:
    """``{{ var.value.my_key }}`` and ``{{ var.json.my_key.field }}`` in templates."""

    def __init__(self) -> None:
        self.value = _VariableAccessor(False)
        self.json = _VariableAccessor(True)
