"""Users of the web UI and REST API: the ``ab_user`` and ``ab_user_role`` tables' rules.

Owns validation (username, names, email, role names), creation with a clear error for a duplicate
username or email, listing, deletion, granting and revoking roles, password resets and password
authentication (which counts failures in ``failed_login_count`` and stamps ``last_login``).
Role names are Airflow's: :data:`ROLE_NAMES` (``updraft.api.security.permissions.Role`` gives them
meaning; a test checks the two agree). Lives in core so that the CLI works without the web stack.

Functions take a ``Connection`` inside the caller's transaction and never commit. Each reads or
writes a whole set in one statement (``list_users`` is two queries whatever the number of users).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from updraft.core.db.models import User, UserRole
from updraft.core.db.types import utcnow
from updraft.core.passwords import hash_password, verify_password
from updraft.sdk.exceptions import UpdraftException

__all__ = [
    "ROLE_NAMES",
    "UserError",
    "UserExists",
    "UserInfo",
    "UserNotFound",
    "add_role",
    "authenticate",
    "count_users",
    "create_user",
    "delete_user",
    "get_user",
    "get_user_by_id",
    "list_users",
    "remove_role",
    "reset_password",
    "set_active",
    "update_profile",
    "validate_role",
]

ROLE_NAMES: tuple[str, ...] = ("Admin", "Op", "User", "Viewer")
MAX_NAME_LENGTH = 256
_USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
_USER: Table = User.__table__  # type: ignore[assignment]
_ROLE: Table = UserRole.__table__  # type: ignore[assignment]
#: Verified against when the username is unknown, so that the answer takes as long as for a known one.
_DUMMY_HASH = hash_password("updraft-no-such-user")


class UserError(UpdraftException, ValueError):
    """A username, email, role or password is invalid, or the change is not allowed."""


class UserExists(UserError):
    """Another user already has this username or email."""


class UserNotFound(UserError, LookupError):
    """No user has this username."""


@dataclass(frozen=True)
class UserInfo:
    """One user as stored, with its roles sorted; never the password hash."""

    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    active: bool = True
    roles: tuple[str, ...] = field(default_factory=tuple)
    created_at: datetime | None = None
    last_login: datetime | None = None
    failed_login_count: int = 0

    def as_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "roles": ",".join(self.roles),
            "active": self.active,
            "last_login": self.last_login,
        }


def validate_role(name: str) -> str:
    """The canonical spelling of role ``name`` (case-insensitive); UserError if unknown."""
    for role in ROLE_NAMES:
        if role.lower() == str(name).strip().lower():
            return role
    raise UserError(f"unknown role {name!r}; roles are: {', '.join(ROLE_NAMES)}")


def _validate_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise UserError("username must not be empty")
    if len(username) > MAX_NAME_LENGTH:
        raise UserError(f"username {username[:40]!r}... is longer than {MAX_NAME_LENGTH} characters")
    if not _USERNAME_RE.match(username):
        raise UserError(
            f"username {username!r} may contain only letters, digits and _ . @ + - (and must start "
            "with a letter or digit)"
        )
    return username


def _validate_text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise UserError(f"{what} must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise UserError(f"{what} is longer than {MAX_NAME_LENGTH} characters")
    return value


def _validate_email(email: str) -> str:
    email = _validate_text(email, "email")
    if not _EMAIL_RE.match(email):
        raise UserError(f"email {email!r} is not an email address (expected name@domain)")
    return email


def _validate_password(password: str) -> str:
    if not password:
        raise UserError("password must not be empty")
    if len(password) > 1024:
        raise UserError("password is longer than 1024 characters")
    return password


def create_user(
    conn: Connection,
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    roles: Iterable[str],
    password: str,
    active: bool = True,
) -> UserInfo:
    """Insert a user with ``roles`` (at least one); UserExists if the username or email is taken."""
    username = _validate_username(username)
    first_name = _validate_text(first_name, "first name")
    last_name = _validate_text(last_name, "last name")
    email = _validate_email(email)
    role_names = sorted({validate_role(r) for r in roles})
    if not role_names:
        raise UserError(f"user {username!r} needs at least one role ({', '.join(ROLE_NAMES)})")
    _validate_password(password)
    taken = conn.execute(
        select(_USER.c.username, _USER.c.email).where(
            (func.lower(_USER.c.username) == username.lower()) | (func.lower(_USER.c.email) == email.lower())
        )
    ).first()
    if taken is not None:
        if taken.username.lower() == username.lower():
            raise UserExists(f"user {taken.username!r} already exists")
        raise UserExists(f"email {email!r} is already used by user {taken.username!r}")
    now = utcnow()
    try:
        with conn.begin_nested():
            user_id = conn.execute(
                insert(_USER)
                .values(
                    username=username,
                    first_name=first_name,
                    last_name=last_name,
                    email=email,
                    password_hash=hash_password(password),
                    active=active,
                    created_at=now,
                    failed_login_count=0,
                )
                .returning(_USER.c.id)
            ).scalar_one()
            conn.execute(insert(_ROLE), [{"user_id": user_id, "role": r} for r in role_names])
    except IntegrityError as exc:  # a concurrent create won the race
        raise UserExists(f"user {username!r} or email {email!r} already exists") from exc
    return UserInfo(user_id, username, first_name, last_name, email, active, tuple(role_names), now)


def _infos(conn: Connection, where: Any = None) -> list[UserInfo]:
    """Users (all, or those matching ``where``) with their roles, in one query."""
    query = (
        select(_USER, _ROLE.c.role)
        .outerjoin(_ROLE, _ROLE.c.user_id == _USER.c.id)
        .order_by(_USER.c.username, _ROLE.c.role)
    )
    if where is not None:
        query = query.where(where)
    users: dict[int, Any] = {}
    roles: dict[int, list[str]] = {}
    for row in conn.execute(query).mappings():
        users.setdefault(row["id"], row)
        if row["role"] is not None:
            roles.setdefault(row["id"], []).append(row["role"])
    return [
        UserInfo(
            id=u["id"],
            username=u["username"],
            first_name=u["first_name"],
            last_name=u["last_name"],
            email=u["email"],
            active=bool(u["active"]),
            roles=tuple(roles.get(u["id"], [])),
            created_at=u["created_at"],
            last_login=u["last_login"],
            failed_login_count=u["failed_login_count"],
        )
        for u in users.values()
    ]


def list_users(conn: Connection) -> list[UserInfo]:
    """Every user, by username."""
    return _infos(conn)


def count_users(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(_USER)) or 0


def get_user(conn: Connection, username: str) -> UserInfo | None:
    found = _infos(conn, _USER.c.username == username)
    return found[0] if found else None


def get_user_by_id(conn: Connection, user_id: int) -> UserInfo | None:
    found = _infos(conn, _USER.c.id == user_id)
    return found[0] if found else None


def _require(conn: Connection, username: str) -> UserInfo:
    user = get_user(conn, username)
    if user is None:
        raise UserNotFound(f"user {username!r} does not exist (see `updraft users list`)")
    return user


def delete_user(conn: Connection, username: str) -> UserInfo:
    """Delete the user (its roles go with it); UserNotFound if there is none."""
    user = _require(conn, username)
    conn.execute(delete(_ROLE).where(_ROLE.c.user_id == user.id))
    conn.execute(delete(_USER).where(_USER.c.id == user.id))
    return user


def add_role(conn: Connection, username: str, role: str) -> UserInfo:
    """Grant ``role``; a no-op if the user already has it."""
    role = validate_role(role)
    user = _require(conn, username)
    if role not in user.roles:
        conn.execute(insert(_ROLE).values(user_id=user.id, role=role))
    return _require(conn, username)


def remove_role(conn: Connection, username: str, role: str) -> UserInfo:
    """Revoke ``role``; UserError if the user does not have it or it is the user's last role."""
    role = validate_role(role)
    user = _require(conn, username)
    if role not in user.roles:
        raise UserError(f"user {username!r} does not have role {role!r} (roles: {', '.join(user.roles)})")
    if len(user.roles) == 1:
        raise UserError(f"cannot remove {role!r}: it is the only role of user {username!r}")
    conn.execute(delete(_ROLE).where(_ROLE.c.user_id == user.id, _ROLE.c.role == role))
    return _require(conn, username)


def reset_password(conn: Connection, username: str, password: str) -> None:
    """Set a new password and clear the count of failed logins."""
    _validate_password(password)
    user = _require(conn, username)
    conn.execute(
        update(_USER)
        .where(_USER.c.id == user.id)
        .values(password_hash=hash_password(password), failed_login_count=0)
    )


def set_active(conn: Connection, username: str, active: bool) -> None:
    """Allow (True) or refuse (False) this user's logins."""
    user = _require(conn, username)
    conn.execute(update(_USER).where(_USER.c.id == user.id).values(active=active))


def update_profile(
    conn: Connection,
    username: str,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
) -> UserInfo:
    """Change the names and/or email (None leaves one as it is); UserExists if the email is taken."""
    user = _require(conn, username)
    changes: dict[str, str] = {}
    if first_name is not None:
        changes["first_name"] = _validate_text(first_name, "first name")
    if last_name is not None:
        changes["last_name"] = _validate_text(last_name, "last name")
    if email is not None:
        email = changes["email"] = _validate_email(email)
        taken = conn.execute(
            select(_USER.c.username).where(func.lower(_USER.c.email) == email.lower(), _USER.c.id != user.id)
        ).first()
        if taken is not None:
            raise UserExists(f"email {email!r} is already used by user {taken.username!r}")
    if changes:
        conn.execute(update(_USER).where(_USER.c.id == user.id).values(**changes))
    return _require(conn, username)


def authenticate(conn: Connection, username: str, password: str) -> UserInfo | None:
    """The active user with this username and password, or None.

    A wrong password adds one to ``failed_login_count``; a right one resets it and stamps
    ``last_login``. An unknown username costs as much time as a known one.
    """
    row = conn.execute(
        select(_USER.c.id, _USER.c.password_hash, _USER.c.active).where(_USER.c.username == username)
    ).first()
    if row is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, row.password_hash):
        conn.execute(
            update(_USER)
            .where(_USER.c.id == row.id)
            .values(failed_login_count=_USER.c.failed_login_count + 1)
        )
        return None
    if not row.active:
        return None
    conn.execute(update(_USER).where(_USER.c.id == row.id).values(failed_login_count=0, last_login=utcnow()))
    return get_user_by_id(conn, row.id)
