"""``updraft connections ...``, ``updraft variables ...`` and ``updraft rotate-fernet-key``."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from sqlalchemy import Engine, func, select

from updraft.cli.main import cli
from updraft.core.db.models import Connection as ConnectionRow

URI = "postgresql://me:pa%40ss-w0rd@db.example:5432/app?sslmode=require"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(ConnectionRow)) or 0)


def test_connections_round_trip(engine: Engine, tmp_path: Path) -> None:
    added = run("connections", "add", "app_db", "--conn-uri", URI, "--conn-description", "main DB")
    assert added.exit_code == 0, added.output
    fields = ["--conn-type", "http", "--conn-host", "api.example", "--conn-password", "t0ken-pw"]
    assert run("connections", "add", "api", *fields, "--conn-extra", '{"x": "1"}').exit_code == 0
    shown = run("connections", "get", "app_db", "-o", "json")
    assert shown.exit_code == 0
    assert json.loads(shown.output)[0]["host"] == "db.example" and "pa@ss-w0rd" not in shown.output
    listed = run("connections", "list", "-o", "json")
    assert [c["conn_id"] for c in json.loads(listed.output)] == ["api", "app_db"]
    assert "t0ken-pw" not in listed.output and "pa@ss-w0rd" not in run("connections", "list").output
    duplicate = run("connections", "add", "api", "--conn-type", "http")
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output

    exported = tmp_path / "conns.json"
    assert run("connections", "export", str(exported)).exit_code == 0
    assert stat.S_IMODE(os.stat(exported).st_mode) == 0o600
    data = json.loads(exported.read_text())
    assert data["app_db"]["password"] == "pa@ss-w0rd" and data["api"]["extra"] == {"x": "1"}
    env_file = tmp_path / "conns.env"
    assert run("connections", "export", str(env_file)).exit_code == 0

    for conn_id in ("app_db", "api"):
        assert run("connections", "delete", conn_id).exit_code == 0
    assert run("connections", "delete", "api").exit_code == 2
    assert _count(engine) == 0
    imported = run("connections", "import", str(exported))
    assert imported.exit_code == 0 and "Imported 2" in imported.output
    again = run("connections", "import", str(env_file))
    assert again.exit_code == 0 and "skipped 2" in again.output

    from updraft.core.connections import get_connection

    found = get_connection("app_db")
    assert found.password == "pa@ss-w0rd" and found.description == "main DB"
    assert found.extra_dejson == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conn-uri", "no scheme here"], "not a URI"),
        (["--conn-uri", "postgres://u:p@host:port/db"], "not a valid URI"),
        (["--conn-json", '{"conn_type": "http", "colour": 1}'], "unknown field(s) colour"),
        (["--conn-type", "http", "--conn-extra", "{nope"], "--conn-extra is not valid JSON"),
        (["--conn-uri", "http://h", "--conn-host", "x"], "cannot be combined"),
        ([], "at least --conn-type"),
    ],
)
def test_bad_add_stores_nothing(updraft_home: Path, args: list[str], message: str) -> None:
    from updraft.core.runtime.dag_test import prepare_engine

    result = run("connections", "add", "broken", *args)
    assert result.exit_code == 2 and message in result.output and "'broken'" in result.output
    assert _count(prepare_engine()) == 0


def test_malformed_import_file_names_file_and_line(updraft_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "conns.env"
    bad.write_text("# comment\ngood=http://h\nno equals sign\n")
    result = run("connections", "import", str(bad))
    assert result.exit_code == 2 and f"{bad}, line 3" in result.output


def test_connections_test(updraft_home: Path, tmp_path: Path) -> None:
    assert (
        run(
            "connections", "add", "local", "--conn-type", "sqlite", "--conn-host", str(tmp_path / "x.db")
        ).exit_code
        == 0
    )
    result = run("connections", "test", "local")
    if importlib.util.find_spec("updraft.providers.sqlite") is not None:
        assert result.exit_code == 0 and "success" in result.output
    else:
        assert result.exit_code == 1 and "'sqlite'" in result.output and "cannot be loaded" in result.output
    assert run("connections", "add", "odd", "--conn-type", "gopher").exit_code == 0
    no_hook = run("connections", "test", "odd")
    assert no_hook.exit_code == 1 and "no hook is registered for connection type 'gopher'" in no_hook.output


def test_variables_round_trip(engine: Engine, tmp_path: Path) -> None:
    assert run("variables", "set", "greeting", "hello", "--description", "said first").exit_code == 0
    assert run("variables", "set", "settings", '{"region": "eu"}', "-j").exit_code == 0
    assert run("variables", "get", "greeting").output == "hello\n"
    assert json.loads(run("variables", "get", "settings", "-j").output) == {"region": "eu"}
    missing = run("variables", "get", "nope")
    assert missing.exit_code == 1 and "'nope'" in missing.output
    assert run("variables", "get", "nope", "-d", "fallback").output == "fallback\n"
    bad_json = run("variables", "set", "broken", "{", "-j")
    assert bad_json.exit_code == 2 and "'broken'" in bad_json.output
    listed = json.loads(run("variables", "list", "-o", "json").output)
    assert listed == [
        {"key": "greeting", "description": "said first"},
        {"key": "settings", "description": None},
    ]
    exported = tmp_path / "vars.json"
    assert run("variables", "export", str(exported)).exit_code == 0
    assert json.loads(exported.read_text()) == {"greeting": "hello", "settings": {"region": "eu"}}
    assert stat.S_IMODE(os.stat(exported).st_mode) == 0o600
    assert run("variables", "delete", "greeting").exit_code == 0
    assert run("variables", "delete", "greeting").exit_code == 2
    assert run("variables", "import", str(exported)).output.startswith("Imported 2")
    assert run("variables", "get", "greeting").output == "hello\n"


def test_rotate_fernet_key(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("UPDRAFT__CORE__FERNET_KEY", old)
    assert run("connections", "add", "db", "--conn-uri", "postgres://u:pw@h/db").exit_code == 0
    assert run("variables", "set", "k", "v").exit_code == 0
    monkeypatch.setenv("UPDRAFT__CORE__FERNET_KEY", new)
    refused = run("rotate-fernet-key")
    assert refused.exit_code == 1 and "nothing was changed" in refused.output
    monkeypatch.setenv("UPDRAFT__CORE__FERNET_KEY", f"{new},{old}")
    rotated = run("rotate-fernet-key")
    assert rotated.exit_code == 0 and "1 connection(s) and 1 variable(s)" in rotated.output
    monkeypatch.setenv("UPDRAFT__CORE__FERNET_KEY", new)
    assert run("variables", "get", "k").output == "v\n"
