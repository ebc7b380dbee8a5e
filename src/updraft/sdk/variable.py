"""``Variable``: settings DAG authors read and write by key, as in Airflow.

``Variable.get`` asks the secrets chain (env vars ``UPDRAFT_VAR_<KEY>``, the configured backend, then
the metadata DB); ``Variable.set`` writes through the first backend of the chain that can write
(one with a ``set_variable`` method: the metadata DB's, installed by the runtime).
"""

from __future__ import annotations

import json
from typing import Any

from updraft.sdk import secrets
from updraft.sdk.secrets import VariableNotFound

__all__ = ["NOTSET", "Variable", "VariableNotFound"]


class _NotSet:
    def __repr__(self) -> str:
        return "NOTSET"


NOTSET: Any = _NotSet()


class Variable:
    """Read with ``Variable.get("key")``, write with ``Variable.set("key", value)``."""

    @staticmethod
    def get(
        key: str, default_var: Any = NOTSET, deserialize_json: bool = False, *, default: Any = NOTSET
    ) -> Any:
        """The variable's value (parsed when ``deserialize_json``); the default when no source has it.

        The default is ``default_var`` (Airflow 2's name) or ``default`` (the Airflow 3 SDK's).
        Raises VariableNotFound (a KeyError) naming the key when it is missing and there is no default.
        """
        if default_var is NOTSET:
            default_var = default
        text = secrets.get_variable(key)
        if text is None:
            if default_var is NOTSET:
                raise VariableNotFound(
                    f"variable {key!r} does not exist (set it with `updraft variables set {key} VALUE` "
                    f"or UPDRAFT_VAR_{key.upper()})"
                )
            return default_var
        if deserialize_json:
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"variable {key!r} is not valid JSON: {exc}") from None
        return text

    @staticmethod
    def set(key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        """Store ``value`` (as JSON when ``serialize_json``, else as ``str(value)``)."""
        text = json.dumps(value, indent=2) if serialize_json else str(value)
        for backend in secrets.backends():
            writer = getattr(backend, "set_variable", None)
            if callable(writer):
                writer(key, text, description)
                return
        names = ", ".join(type(b).__name__ for b in secrets.backends())
        raise RuntimeError(
            f"cannot set variable {key!r}: no secrets backend can write ({names}); "
            "run inside updraft, where the metadata DB is in the chain"
        )
