"""Variables and connections as stored rows: list, read, create, update and delete them inside the
caller's transaction (the REST API and the UI use these; the runtime reads through
``updraft.core.variables`` / ``updraft.core.connections``, which also see env vars).

Functions take a ``Connection`` and never commit. ``create_*`` raises ObjectExists for a taken key,
``update_*`` / ``delete_*`` raise ObjectNotFound.

Connection passwords and extras and variable values are encrypted at rest (``updraft.core.fernet``)
with ``is_encrypted`` / ``is_extra_encrypted`` set; every reader here decrypts (rows written before
encryption, with the flag false, read as they are). A value the configured keys cannot decrypt raises
``FernetKeyMismatch`` naming the connection or variable; nothing stored is rewritten then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from updraft.core import fernet
from updraft.core.db.models import Connection as ConnectionRow
from updraft.core.db.models import Variable
from updraft.sdk.exceptions import UpdraftException

__all__ = [
    "CONN_ID_PATTERN",
    "CONNECTION_FIELDS",
    "ObjectExists",
    "ObjectNotFound",
    "StoredConnection",
    "StoredVariable",
    "connection_from_row",
    "list_connections",
    "list_variables",
    "rotate_encryption",
    "set_variable",
    "variable_from_row",
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


@dataclass(frozen=True)
class StoredVariable:
    """A variable row with its value decrypted."""

    key: str
    val: str | None
    description: str | None
    is_encrypted: bool


@dataclass(frozen=True)
class StoredConnection:
    """A connection row with its password and extra decrypted."""

    conn_id: str
    conn_type: str
    description: str | None
    host: str | None
    schema: str | None
    login: str | None
    password: str | None
    port: int | None
    extra: str | None


def variable_from_row(row: Any) -> StoredVariable:
    """Decrypt a selected ``variable`` row."""
    val = fernet.decrypt(row.val, f"variable {row.key!r}") if row.is_encrypted else row.val
    return StoredVariable(
        key=row.key, val=val, description=row.description, is_encrypted=bool(row.is_encrypted)
    )


def connection_from_row(row: Any) -> StoredConnection:
    """Decrypt a selected ``connection`` row."""
    what = f"connection {row.conn_id!r}"
    return StoredConnection(
        conn_id=row.conn_id,
        conn_type=row.conn_type,
        description=row.description,
        host=row.host,
        schema=row.schema,
        login=row.login,
        password=fernet.decrypt(row.password, what) if row.is_encrypted else row.password,
        port=row.port,
        extra=fernet.decrypt(row.extra, what) if row.is_extra_encrypted else row.extra,
    )


def _raw_variable(conn: Connection, key: str) -> Any:
    return conn.execute(select(_VAR.c.id).where(_VAR.c.key == key)).first()


def get_variable_row(conn: Connection, key: str) -> StoredVariable | None:
    """The variable (key, val, description, is_encrypted) with its value decrypted, or None."""
    row = conn.execute(select(_VAR).where(_VAR.c.key == key)).first()
    return None if row is None else variable_from_row(row)


def list_variables(conn: Connection) -> list[StoredVariable]:
    return [variable_from_row(row) for row in conn.execute(select(_VAR).order_by(_VAR.c.key))]


def _variable_values(value: str | None) -> dict[str, Any]:
    return {"val": fernet.encrypt(value), "is_encrypted": value is not None}


def set_variable(conn: Connection, key: str, value: str | None, description: str | None = None) -> None:
    """Create the variable or replace its value (and its description when one is given)."""
    if _raw_variable(conn, key) is None:
        create_variable(conn, key, value, description)
        return
    changes: dict[str, Any] = {"val": value}
    if description is not None:
        changes["description"] = description
    update_variable(conn, key, changes)


def create_variable(conn: Connection, key: str, value: str | None, description: str | None) -> None:
    if not key or len(key) > 250:
        raise ValueError("key: a variable key needs 1 to 250 characters")
    if _raw_variable(conn, key) is not None:
        raise ObjectExists(f"variable {key!r} already exists")
    try:
        with conn.begin_nested():
            conn.execute(insert(_VAR).values(key=key, description=description, **_variable_values(value)))
    except IntegrityError:
        raise ObjectExists(f"variable {key!r} already exists") from None


def update_variable(conn: Connection, key: str, changes: Mapping[str, Any]) -> None:
    """Change ``val`` and/or ``description`` of the variable ``key``."""
    if _raw_variable(conn, key) is None:
        raise ObjectNotFound(f"variable {key!r} does not exist")
    values = {name: changes[name] for name in ("val", "description") if name in changes}
    if "val" in values:
        values.update(_variable_values(values["val"]))
    if values:
        conn.execute(update(_VAR).where(_VAR.c.key == key).values(**values))


def delete_variable(conn: Connection, key: str) -> None:
    if not conn.execute(delete(_VAR).where(_VAR.c.key == key)).rowcount:
        raise ObjectNotFound(f"variable {key!r} does not exist")


def _raw_connection(conn: Connection, conn_id: str) -> Any:
    return conn.execute(select(_CONN.c.id).where(_CONN.c.conn_id == conn_id)).first()


def get_connection_row(conn: Connection, conn_id: str) -> StoredConnection | None:
    """The connection with its password and extra decrypted, or None."""
    row = conn.execute(select(_CONN).where(_CONN.c.conn_id == conn_id)).first()
    return None if row is None else connection_from_row(row)


def list_connections(conn: Connection) -> list[StoredConnection]:
    return [connection_from_row(row) for row in conn.execute(select(_CONN).order_by(_CONN.c.conn_id))]


def _encrypted_fields(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with password and extra (when present) encrypted and their flags set."""
    out = dict(values)
    if "password" in out:
        out["is_encrypted"] = out["password"] is not None
        out["password"] = fernet.encrypt(out["password"])
    if "extra" in out:
        out["is_extra_encrypted"] = out["extra"] is not None
        out["extra"] = fernet.encrypt(out["extra"])
    return out


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
    if _raw_connection(conn, conn_id) is not None:
        raise ObjectExists(f"connection {conn_id!r} already exists")
    values = _encrypted_fields({name: fields.get(name) for name in CONNECTION_FIELDS})
    try:
        with conn.begin_nested():
            conn.execute(insert(_CONN).values(conn_id=conn_id, **values))
    except IntegrityError:
        raise ObjectExists(f"connection {conn_id!r} already exists") from None


def update_connection(conn: Connection, conn_id: str, changes: Mapping[str, Any]) -> None:
    """Change some of :data:`CONNECTION_FIELDS` of the connection ``conn_id``."""
    if _raw_connection(conn, conn_id) is None:
        raise ObjectNotFound(f"connection {conn_id!r} does not exist")
    values = {name: changes[name] for name in CONNECTION_FIELDS if name in changes}
    if "conn_type" in values and not values["conn_type"]:
        raise ValueError(f"conn_type: connection {conn_id!r} needs a type")
    if values:
        conn.execute(update(_CONN).where(_CONN.c.conn_id == conn_id).values(**_encrypted_fields(values)))


def delete_connection(conn: Connection, conn_id: str) -> None:
    if not conn.execute(delete(_CONN).where(_CONN.c.conn_id == conn_id)).rowcount:
        raise ObjectNotFound(f"connection {conn_id!r} does not exist")


def rotate_encryption(conn: Connection) -> tuple[int, int]:
    """Re-encrypt every encrypted value under the first configured key (any listed key decrypts).

    Returns (connections, variables) rewritten. Runs in the caller's transaction: when one value
    cannot be decrypted, FernetKeyMismatch names it and the caller's rollback keeps every row as it was.
    """
    keys = fernet.get_fernet()
    rotated_conns = 0
    for row in conn.execute(select(_CONN).where(_CONN.c.is_encrypted | _CONN.c.is_extra_encrypted)).all():
        what = f"connection {row.conn_id!r}"
        values: dict[str, Any] = {}
        if row.is_encrypted and row.password is not None:
            values["password"] = _rotate(keys, row.password, what)
        if row.is_extra_encrypted and row.extra is not None:
            values["extra"] = _rotate(keys, row.extra, what)
        if values:
            conn.execute(update(_CONN).where(_CONN.c.id == row.id).values(**values))
            rotated_conns += 1
    rotated_vars = 0
    for row in conn.execute(select(_VAR).where(_VAR.c.is_encrypted)).all():
        if row.val is not None:
            new = _rotate(keys, row.val, f"variable {row.key!r}")
            conn.execute(update(_VAR).where(_VAR.c.id == row.id).values(val=new))
            rotated_vars += 1
    return rotated_conns, rotated_vars


def _rotate(keys: Any, token: str, what: str) -> str:
    fernet.decrypt(token, what)  # raises the clear error when no key fits
    rotated: bytes = keys.rotate(token.encode("ascii"))
    return rotated.decode("ascii")
