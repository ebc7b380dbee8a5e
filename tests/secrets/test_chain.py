"""The secrets chain (env vars, then the configured backend, then the DB), local files, and Variable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from updraft import Variable
from updraft.core import config_objects as objects
from updraft.core import fernet
from updraft.core.secrets_chain import SecretsBackendConfigError, install_secrets_chain
from updraft.providers.secrets.local_filesystem import LocalFileError, LocalFilesystemBackend
from updraft.sdk import secrets
from updraft.sdk.variable import VariableNotFound

BACKEND = "updraft.providers.secrets.local_filesystem.LocalFilesystemBackend"


def _configure_files(monkeypatch: pytest.MonkeyPatch, conns: Path | None, variables: Path | None) -> None:
    kwargs = {"connections_file_path": str(conns) if conns else None}
    kwargs["variables_file_path"] = str(variables) if variables else None
    monkeypatch.setenv("UPDRAFT__SECRETS__BACKEND", BACKEND)
    monkeypatch.setenv("UPDRAFT__SECRETS__BACKEND_KWARGS", json.dumps(kwargs))


def test_env_beats_backend_beats_db(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conns = tmp_path / "conns.json"
    conns.write_text(
        json.dumps({"shared": "http://from-file", "file_only": {"conn_type": "http", "host": "f"}})
    )
    variables = tmp_path / "vars.env"
    variables.write_text("shared=file\nfile_only=file\n")
    with engine.begin() as conn:
        for key in ("shared", "file_only", "db_only"):
            objects.create_connection(conn, key, {"conn_type": "http", "host": "from-db"})
            objects.create_variable(conn, key, "db", None)
    _configure_files(monkeypatch, conns, variables)
    monkeypatch.setenv("UPDRAFT_CONN_SHARED", "http://from-env")
    monkeypatch.setenv("UPDRAFT_VAR_SHARED", "env")
    install_secrets_chain(engine)
    assert [secrets.get_connection(k).host for k in ("shared", "file_only", "db_only")] == [
        "from-env",
        "f",
        "from-db",
    ]
    assert [Variable.get(k) for k in ("shared", "file_only", "db_only")] == ["env", "file", "db"]


def test_bad_backend_settings_are_named(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT__SECRETS__BACKEND", "updraft.nowhere.Backend")
    with pytest.raises(SecretsBackendConfigError, match=r"secrets\.backend: cannot import 'updraft\.nowhere"):
        install_secrets_chain()
    monkeypatch.setenv("UPDRAFT__SECRETS__BACKEND", BACKEND)
    monkeypatch.setenv("UPDRAFT__SECRETS__BACKEND_KWARGS", "{not json")
    with pytest.raises(SecretsBackendConfigError, match=r"backend_kwargs: not valid JSON"):
        install_secrets_chain()
    monkeypatch.setenv("UPDRAFT__SECRETS__BACKEND_KWARGS", '{"colour": "red"}')
    with pytest.raises(SecretsBackendConfigError, match="does not accept them"):
        install_secrets_chain()


def test_local_files_in_every_format(tmp_path: Path) -> None:
    (tmp_path / "c.env").write_text(
        '# note\n\nweb=https://u:p%2Fw@example.com:8443/x\napi={"conn_type": "http"}\n'
    )
    (tmp_path / "c.yaml").write_text("web:\n  conn_type: http\n  host: y.example\n  extra: {a: b}\n")
    (tmp_path / "v.json").write_text(json.dumps({"plain": "text", "nested": {"a": [1]}}))
    env = LocalFilesystemBackend(connections_file_path=str(tmp_path / "c.env"))
    web = env.get_connection("web")
    assert web is not None and (web.password, web.port, web.conn_type) == ("p/w", 8443, "https")
    assert env.get_connection("api") is not None and env.get_connection("missing") is None
    yaml_web = LocalFilesystemBackend(connections_file_path=str(tmp_path / "c.yaml")).get_connection("web")
    assert yaml_web is not None and yaml_web.host == "y.example" and yaml_web.extra_dejson == {"a": "b"}
    values = LocalFilesystemBackend(variables_file_path=str(tmp_path / "v.json"))
    assert values.get_variable("plain") == "text" and json.loads(values.get_variable("nested") or "") == {
        "a": [1]
    }
    assert values.get_connection("web") is None  # no connections file


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.json", '{\n  "a": "http://h",\n  oops\n}', "bad.json, line 3: not valid JSON"),
        ("bad.env", "a=http://h\n\njust text\n", "bad.env, line 3: expected KEY=VALUE"),
        ("dup.env", "a=http://h\na=http://i\n", "dup.env, line 2: 'a' is defined twice"),
        ("bad.yaml", "a: [1\nb: 2\n", "bad.yaml, line"),
        ("list.json", "[1, 2]", "list.json: the top level must be a mapping"),
        ("conn.json", '{"db": "not a uri"}', "conn.json, key 'db': connection 'db': not a URI"),
        ("pw.json", '{"db": "postgres://u:hunter2@h:port/x"}', "pw.json, key 'db'"),
        ("conns.txt", "", "unsupported file type '.txt'"),
    ],
)
def test_malformed_files_name_file_and_place(tmp_path: Path, name: str, text: str, where: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(LocalFileError) as caught:
        LocalFilesystemBackend(connections_file_path=str(path)).get_connection("db")
    assert where in str(caught.value) and "hunter2" not in str(caught.value)


def test_variable_get_set_json_and_default(engine: Engine) -> None:
    install_secrets_chain(engine)
    Variable.set("plain", 42, description="the answer")
    Variable.set("config", {"region": "eu", "sizes": [1, 2]}, serialize_json=True)
    assert Variable.get("plain") == "42"
    assert Variable.get("config", deserialize_json=True) == {"region": "eu", "sizes": [1, 2]}
    assert Variable.get("missing", default_var=None) is None
    assert Variable.get("missing", default_var={"d": 1}, deserialize_json=True) == {"d": 1}
    with pytest.raises(VariableNotFound, match="'missing'") as caught:
        Variable.get("missing")
    assert isinstance(caught.value, KeyError)
    with pytest.raises(ValueError, match="'plain_text' is not valid JSON"):
        Variable.set("plain_text", "not json")
        Variable.get("plain_text", deserialize_json=True)
    Variable.set("plain", "replaced")
    with engine.connect() as conn:
        stored = objects.get_variable_row(conn, "plain")
    assert stored is not None and stored.val == "replaced" and stored.description == "the answer"


def test_variable_set_needs_a_writable_backend() -> None:
    secrets.install_backends([secrets.EnvironmentVariablesBackend()])
    with pytest.raises(RuntimeError, match="cannot set variable 'k': no secrets backend can write"):
        Variable.set("k", "v")


def test_concurrent_first_use_makes_one_key(updraft_home: Path) -> None:
    script = "from updraft.core import fernet; print(fernet.encrypt('same'))"
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(4)
    ]
    tokens = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    fernet.reset_cache()
    assert [fernet.decrypt(t, "token") for t in tokens] == ["same"] * 4  # all written with the one key
    assert [p.name for p in updraft_home.iterdir()] == ["fernet_key"]


def test_smtp_settings_in_updraft_cfg_reach_the_providers_layer(tmp_path: Path) -> None:
    import os
    from unittest.mock import patch

    from updraft.core.config import conf
    from updraft.core.secrets_chain import export_file_settings
    from updraft.providers.smtp.hook import resolve_settings

    (tmp_path / "updraft.cfg").write_text("[smtp]\nsmtp_host = mail.example.com\nsmtp_port = 2525\n")
    with patch.dict(os.environ):  # the whole environment comes back afterwards
        for name in ("UPDRAFT__SMTP__SMTP_HOST", "UPDRAFT__SMTP__SMTP_PORT", "AIRFLOW__SMTP__SMTP_PORT"):
            os.environ.pop(name, None)
        os.environ["UPDRAFT_HOME"] = str(tmp_path)
        conf.reload()
        try:
            export_file_settings("smtp")
            settings = resolve_settings()
            assert (settings.host, settings.port) == ("mail.example.com", 2525)
        finally:
            (tmp_path / "updraft.cfg").unlink()
            conf.reload()
