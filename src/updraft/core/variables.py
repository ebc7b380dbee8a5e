"""Reading and writing Variables: ``UPDRAFT_VAR_<KEY>`` (or ``AIRFLOW_VAR_<KEY>``) env vars, then the DB."""

from __future__ import annotations

import json
import os
from typing import Any

from sqlalchemy import select

from updraft.core.db.engine import create_session
from updraft.core.db.models import Variable

_MISSING: Any = object()


class VariableNotFound(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def get_variable_text(key: str) -> str | None:
    """The raw text of a variable, or None when no source has it."""
    for prefix in ("UPDRAFT_VAR_", "AIRFLOW_VAR_"):
        value = os.environ.get(prefix + key.upper())
        if value is not None:
            return value
    with create_session() as session:
        return session.scalar(select(Variable.val).where(Variable.key == key))


def get_variable(key: str, default: Any = _MISSING, deserialize_json: bool = False) -> Any:
    text = get_variable_text(key)
    if text is None:
        if default is _MISSING:
            raise VariableNotFound(f"variable {key!r} does not exist (set it, or UPDRAFT_VAR_{key.upper()})")
        return default
    if deserialize_json:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"variable {key!r} is not valid JSON: {exc}") from None
    return text


def set_variable(key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
    text = json.dumps(value) if serialize_json else str(value)
    with create_session() as session:
        row = session.scalar(select(Variable).where(Variable.key == key))
        if row is None:
            session.add(Variable(key=key, val=text, description=description))
        else:
            row.val = text
            if description is not None:
                row.description = description


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
