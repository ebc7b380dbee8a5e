"""Fixtures for the API tests: an app on a fresh DB (SQLite and PostgreSQL) with one user per role.

``api`` (an :class:`Api`) depends on ``engine``, so each test that takes it runs on both backends.
Every user's password is :data:`PASSWORD`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from updraft.api.app import create_app
from updraft.api.security.dependencies import CurrentUser, require
from updraft.api.security.permissions import Permission
from updraft.core.users import create_user

PASSWORD = "correct horse battery"
ROLE_USERS = {"admin": "Admin", "op": "Op", "user": "User", "viewer": "Viewer"}

#: A test-only router: one read route (Viewer may) and one write route (Op and Admin may).
test_router = APIRouter(prefix="/test")


@test_router.get("/pools")
def read_pools(user: CurrentUser = Depends(require(Permission.POOLS_READ))) -> dict[str, str]:
    return {"user": user.username}


@test_router.post("/pools")
def edit_pools(user: CurrentUser = Depends(require(Permission.POOLS_EDIT))) -> dict[str, str]:
    return {"user": user.username}


class Api:
    def __init__(self, app: FastAPI, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.client = TestClient(app)

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = self.client.post("/auth/token", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        return str(response.json()["access_token"])

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    with engine.begin() as conn:
        for username, role in ROLE_USERS.items():
            create_user(
                conn,
                username=username,
                first_name=username.title(),
                last_name="Tester",
                email=f"{username}@example.com",
                roles=[role],
                password=PASSWORD,
            )
    app = create_app(engine)
    app.include_router(test_router, prefix="/api/v2")
    yield Api(app, engine)
