"""``updraft connections get`` finds a connection where tasks would: env vars, secrets backend, metadata DB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from updraft.cli.main import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def shown(conn_id: str) -> dict[str, object]:
    result = run("connections", "get", conn_id, "-o", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    return row


def test_an_env_var_connection_is_shown_without_its_password(
    updraft_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "UPDRAFT_CONN_WAREHOUSE", "postgresql://etl:hunter2-pw@db.example:6543/sales?sslmode=require"
    )
    row = shown("warehouse")
    assert {k: row[k] for k in ("conn_id", "conn_type", "host", "port", "schema", "login")} == {
        "conn_id": "warehouse",
        "conn_type": "postgresql",
        "host": "db.example",
        "port": 6543,
        "schema": "sales",
        "login": "etl",
    }
    assert json.loads(str(row["extra"])) == {"sslmode": "require"}
    table = run("connections", "get", "warehouse")
    assert table.exit_code == 0
    assert "hunter2-pw" not in table.output
    assert table.stdout.splitlines()[0].split()[:2] == ["conn_id", "conn_type"]
    assert "(from the environment variable UPDRAFT_CONN_WAREHOUSE)" in table.stderr


def test_the_chain_order_is_env_var_then_backend_then_database(
    updraft_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = run("connections", "add", "api", "--conn-type", "http", "--conn-host", "db-host.example")
    assert added.exit_code == 0, added.output
    assert shown("api")["host"] == "db-host.example"
    assert "(from the metadata database)" in run("connections", "get", "api").stderr

    files = tmp_path / "connections.json"
    files.write_text(json.dumps({"api": {"conn_type": "http", "host": "file-host.example"}}))
    monkeypatch.setenv(
        "UPDRAFT__SECRETS__BACKEND", "updraft.providers.secrets.local_filesystem.LocalFilesystemBackend"
    )
    monkeypatch.setenv("UPDRAFT__SECRETS__BACKEND_KWARGS", json.dumps({"connections_file_path": str(files)}))
    assert shown("api")["host"] == "file-host.example"
    assert "LocalFilesystemBackend" in run("connections", "get", "api").stderr

    monkeypatch.setenv("AIRFLOW_CONN_API", json.dumps({"conn_type": "http", "host": "env-host.example"}))
    assert shown("api")["host"] == "env-host.example"
    assert "(from the environment variable AIRFLOW_CONN_API)" in run("connections", "get", "api").stderr


def test_a_connection_defined_nowhere_exits_2_naming_the_places_looked(updraft_home: Path) -> None:
    result = run("connections", "get", "nowhere")
    assert result.exit_code == 2
    assert "connection 'nowhere' is not defined" in result.stderr
    assert "EnvironmentVariablesBackend" in result.stderr and "MetastoreBackend" in result.stderr
    assert "UPDRAFT_CONN_NOWHERE" in result.stderr


def test_a_malformed_env_var_is_a_clear_error(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT_CONN_BROKEN", '{"conn_type": "http", "port": "not-a-port"')
    result = run("connections", "get", "broken")
    assert result.exit_code == 2
    assert "connection 'broken'" in result.stderr
