"""``updraft users ...`` as a user types it, in subprocesses, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine

from updraft.core.users import authenticate

UPDRAFT = str(Path(sys.executable).with_name("updraft"))


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [UPDRAFT, "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


CREATE = ["create", "--username", "ada", "--firstname", "Ada", "--lastname", "L", "--email", "ada@x.org"]


def test_users_cli_happy_path(db_url: str) -> None:
    done = cli(*CREATE, "--role", "op", "--password", "pw-ada-1")
    assert done.returncode == 0, done.stderr
    assert "pw-ada-1" not in done.stdout + done.stderr
    done = cli(*[a.replace("ada", "bob") for a in CREATE], "--role", "Viewer", "--use-random-password")
    assert done.returncode == 0, done.stderr
    random_password = done.stdout.split("Password: ")[1].strip()
    done = cli(*[a.replace("ada", "cy") for a in CREATE], "--role", "User", stdin="pw-cy\npw-cy\n")
    assert done.returncode == 0, done.stderr
    assert "pw-cy" not in done.stdout
    assert cli("add-role", "--username", "ada", "--role", "Admin").returncode == 0
    assert cli("remove-role", "--username", "ada", "--role", "Op").returncode == 0
    assert cli("reset-password", "--username", "cy", "--password", "pw-cy-2").returncode == 0
    listed = json.loads(cli("list", "-o", "json").stdout)
    assert [(u["username"], u["roles"]) for u in listed] == [
        ("ada", "Admin"),
        ("bob", "Viewer"),
        ("cy", "User"),
    ]
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        assert authenticate(conn, "bob", random_password) is not None
        assert authenticate(conn, "cy", "pw-cy-2") is not None
        assert authenticate(conn, "cy", "pw-cy") is None
    engine.dispose()
    assert cli("delete", "--username", "bob").returncode == 0
    assert [u["username"] for u in json.loads(cli("list", "-o", "json").stdout)] == ["ada", "cy"]


def test_users_cli_errors(db_url: str) -> None:
    assert cli(*CREATE, "--role", "Admin", "--password", "pw").returncode == 0
    done = cli(*CREATE, "--role", "Admin", "--password", "pw")
    assert done.returncode == 2 and "user 'ada' already exists" in done.stderr
    done = cli(
        *[a.replace("ada", "eve") for a in CREATE[:3]], *CREATE[3:], "--role", "Admin", "--password", "pw"
    )
    assert done.returncode == 2 and "email 'ada@x.org' is already used" in done.stderr
    done = cli(*[a.replace("ada", "zed") for a in CREATE], "--role", "Boss", "--password", "pw")
    assert done.returncode == 2 and "unknown role 'Boss'" in done.stderr and "Viewer" in done.stderr
    done = cli(
        *[a.replace("ada", "zed") for a in CREATE], "--role", "Op", "--email", "nope", "--password", "p"
    )
    assert done.returncode == 2 and "not an email address" in done.stderr
    done = cli("delete", "--username", "ghost")
    assert done.returncode == 2 and "does not exist" in done.stderr
    done = cli("remove-role", "--username", "ada", "--role", "Admin")
    assert done.returncode == 2 and "only role" in done.stderr
