"""Variables and connections as stored rows: list, read, create, update and delete them inside the
caller's transaction (the REST API and the UI use these; the runtime reads through
``updraft.core.variables`` / ``updraft.core.connections``, which also see env vars).

Functions take a ``Connection`` and never commit. ``create_*`` raises ObjectExists for a taken key,
``update_*`` / ``delete_*`` raise ObjectNotFound. Values are stored as they are (no encryption yet:
``is_encrypted`` stays false, as the runtime writes them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from updraft.core.db.models import Connection as ConnectionRow
from updraft.core.db.models import Variable
from updraft.sdk.exceptions import UpdraftException

__all__ = [
    "CONN_ID_PATTERN",
    "CONNECTION_FIELDS",
    "ObjectExists",
    "ObjectNotFound",
    "create_connection",
    "create_variable",
    "delete_connection",
    "delete_variable",
    "get_connection_row",
    "get_variable_row",
    "update_connection",
    "update_variable",
]

_VAR: Table = Variable.__table__  # type: ignore[assignment]
_CONN: Table = ConnectionRow.__table__  # type: ignore[assignment]
#: Airflow's allowed connection ids: letters, digits and ``_.-``, at most 200 characters.
CONN_ID_PATTERN = re.compile(r"^[\w.-]{1,200}$")
#: Stored connection fields other than conn_id.
CONNECTION_FIELDS = ("conn_type", "description", "host", "schema", "login", "password", "port", "extra")


class ObjectExists(UpdraftException):
    """A variable or connection with this key already exists."""


class ObjectNotFound(UpdraftException, LookupError):
    """No variable or connection has this key."""


def get_variable_row(conn: Connection, key: str) -> Any:
    """The variable's row (key, val, description, is_encrypted), or None."""
    return conn.execute(select(_VAR).where(_VAR.c.key == key)).first()


def create_variable(conn: Connection, key: str, value: str | None, description: str | None) -> None:
    if not key or len(key) > 250:
        raise ValueError("key: a variable key needs 1 to 250 characters")
    if get_variable_row(conn, key) is not None:
        raise ObjectExists(f"variable {key!r} already exists")
    try:
        with conn.begin_nested():
            conn.execute(insert(_VAR).values(key=key, val=value, description=description, is_encrypted=False))
    except IntegrityError:
        raise ObjectExists(f"variable {key!r} already exists") from None


def update_variable(conn: Connection, key: str, changes: Mapping[str, Any]) -> None:
    """Change ``val`` and/or ``description`` of the variable ``key``."""
    if get_variable_row(conn, key) is None:
        raise ObjectNotFound(f"variable {key!r} does not exist")
    values = {name: changes[name] for name in ("val", "description") if name in changes}
    if values:
        conn.execute(update(_VAR).where(_VAR.c.key == key).values(**values))


def delete_variable(conn: Connection, key: str) -> None:
    if not conn.execute(delete(_VAR).where(_VAR.c.key == key)).rowcount:
        raise ObjectNotFound(f"variable {key!r} does not exist")


def get_connection_row(conn: Connection, conn_id: str) -> Any:
    """The connection's row, or None."""
    return conn.execute(select(_CONN).where(_CONN.c.conn_id == conn_id)).first()


def _check_conn_id(conn_id: str) -> None:
    if not CONN_ID_PATTERN.match(conn_id):
        raise ValueError(
            f"connection_id: {conn_id[:40]!r} must be 1 to 200 letters, digits, underscores, dots or dashes"
        )


def create_connection(conn: Connection, conn_id: str, fields: Mapping[str, Any]) -> None:
    """Store a new connection; ``fields`` holds some of :data:`CONNECTION_FIELDS`."""
    _check_conn_id(conn_id)
    if not fields.get("conn_type"):
        raise ValueError(f"conn_type: connection {conn_id!r} needs a type (e.g. postgres, http)")
    if get_connection_row(conn, conn_id) is not None:
        raise ObjectExists(f"connection {conn_id!r} already exists")
    values = {name: fields.get(name) for name in CONNECTION_FIELDS}
    try:
        with conn.begin_nested():
            conn.execute(
                insert(_CONN).values(conn_id=conn_id, is_encrypted=False, is_extra_encrypted=False, **values)
            )
    except IntegrityError:
        raise ObjectExists(f"connection {conn_id!r} already exists") from None


def update_connection(conn: Connection, conn_id: str, changes: Mapping[str, Any]) -> None:
    """Change some of :data:`CONNECTION_FIELDS` of the connection ``conn_id``."""
    if get_connection_row(conn, conn_id) is None:
        raise ObjectNotFound(f"connection {conn_id!r} does not exist")
    values = {name: changes[name] for name in CONNECTION_FIELDS if name in changes}
    if "conn_type" in values and not values["conn_type"]:
        raise ValueError(f"conn_type: connection {conn_id!r} needs a type")
    if values:
        conn.execute(update(_CONN).where(_CONN.c.conn_id == conn_id).values(**values))


def delete_connection(conn: Connection, conn_id: str) -> None:
    if not conn.execute(delete(_CONN).where(_CONN.c.conn_id == conn_id)).rowcount:
        raise ObjectNotFound(f"connection {conn_id!r} does not exist")
