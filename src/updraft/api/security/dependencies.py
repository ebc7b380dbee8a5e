"""FastAPI dependencies that authenticate the caller and check one permission per route.

``get_current_user`` is filled in by the auth work (session cookie, bearer token, basic auth);
``require(Permission.X)`` is what every route declares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Depends, HTTPException, Request, status

from updraft.api.security.permissions import Permission, Role, permissions_of


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def get_current_user(request: Request) -> CurrentUser:
    """The authenticated user; 401 when the request carries no valid credentials."""
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", headers={"WWW-Authenticate": "Bearer"})


def require(permission: Permission) -> Callable[..., CurrentUser]:
    """A dependency for a route that needs ``permission``: 401 if anonymous, 403 if not allowed."""

    def check(user: CurrentUser = Depends(get_current_user)) -> CurrentUser:
        if not user.can(permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {permission.value!r} permission")
        return user

    check.required_permission = permission  # type: ignore[attr-defined]
    return check
