"""Connection passwords and extras and variable values are encrypted at rest (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

from updraft.core import config_objects as objects
from updraft.core import fernet
from updraft.core.db.models import Connection as ConnectionRow
from updraft.core.db.models import Variable
from updraft.core.secrets_chain import MetastoreBackend

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
FIELDS = {
    "conn_type": "postgres",
    "host": "db",
    "login": "me",
    "password": "pa55-word",
    "extra": '{"k": "v"}',
}


def _raw_connection(engine: Engine, conn_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(ConnectionRow.__table__).where(ConnectionRow.conn_id == conn_id)).one()


def _raw_variable(engine: Engine, key: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Variable.__table__).where(Variable.key == key)).one()


def _use_key(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("UPDRAFT__CORE__FERNET_KEY", value)


def test_round_trip_stores_ciphertext(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_key(monkeypatch, OLD_KEY)
    with engine.begin() as conn:
        objects.create_connection(conn, "db", FIELDS)
        objects.create_variable(conn, "token", "t0ken-value", None)
    raw = _raw_connection(engine, "db")
    assert raw.is_encrypted and raw.is_extra_encrypted
    assert "pa55-word" not in raw.password and not raw.extra.startswith("{")
    assert raw.host == "db"  # only the secrets are encrypted
    var = _raw_variable(engine, "token")
    assert var.is_encrypted and "t0ken-value" not in var.val
    found = MetastoreBackend(engine).get_connection("db")
    assert found is not None and found.password == "pa55-word" and found.extra_dejson == {"k": "v"}
    assert MetastoreBackend(engine).get_variable("token") == "t0ken-value"
    with engine.begin() as conn:
        objects.update_connection(conn, "db", {"password": "changed"})
        objects.update_variable(conn, "token", {"val": "new-token"})
        assert objects.get_connection_row(conn, "db").password == "changed"  # type: ignore[union-attr]
        assert objects.get_variable_row(conn, "token").val == "new-token"  # type: ignore[union-attr]
    assert "changed" not in _raw_connection(engine, "db").password


def test_plain_rows_written_before_encryption_still_read(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_key(monkeypatch, OLD_KEY)
    with engine.begin() as conn:
        conn.execute(
            ConnectionRow.__table__.insert().values(
                conn_id="legacy", conn_type="http", password="plain", extra="{}", is_encrypted=False,
                is_extra_encrypted=False,
            )
        )  # fmt: skip
        conn.execute(Variable.__table__.insert().values(key="legacy", val="plain", is_encrypted=False))
    found = MetastoreBackend(engine).get_connection("legacy")
    assert found is not None and found.password == "plain"
    assert MetastoreBackend(engine).get_variable("legacy") == "plain"


def test_wrong_key_is_a_clear_error_and_keeps_the_data(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_key(monkeypatch, OLD_KEY)
    with engine.begin() as conn:
        objects.create_connection(conn, "db", FIELDS)
        objects.create_variable(conn, "token", "t0ken", None)
    before = _raw_connection(engine, "db"), _raw_variable(engine, "token")
    _use_key(monkeypatch, NEW_KEY)
    with pytest.raises(fernet.FernetKeyMismatch, match=r"cannot decrypt connection 'db'.*core\.fernet_key"):
        MetastoreBackend(engine).get_connection("db")
    with pytest.raises(fernet.FernetKeyMismatch, match="variable 'token'"):
        MetastoreBackend(engine).get_variable("token")
    with engine.begin() as conn, pytest.raises(fernet.FernetKeyMismatch):
        objects.rotate_encryption(conn)
    assert (_raw_connection(engine, "db"), _raw_variable(engine, "token")) == before


def test_rotate_re_encrypts_under_the_first_key(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_key(monkeypatch, OLD_KEY)
    with engine.begin() as conn:
        objects.create_connection(conn, "db", FIELDS)
        objects.create_connection(conn, "nopass", {"conn_type": "http"})
        objects.create_variable(conn, "token", "t0ken", None)
    before = _raw_connection(engine, "db")
    _use_key(monkeypatch, f"{NEW_KEY},{OLD_KEY}")
    with engine.begin() as conn:
        assert objects.rotate_encryption(conn) == (1, 1)
    after = _raw_connection(engine, "db")
    assert after.password != before.password and after.extra != before.extra
    _use_key(monkeypatch, NEW_KEY)
    found = MetastoreBackend(engine).get_connection("db")
    assert found is not None and found.password == "pa55-word" and found.extra_dejson == {"k": "v"}
    assert MetastoreBackend(engine).get_variable("token") == "t0ken"


def test_key_file_is_generated_once_with_mode_600(updraft_home: Path) -> None:
    token = fernet.encrypt("secret")
    path = fernet.fernet_key_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_text()
    fernet.reset_cache()
    assert fernet.decrypt(token, "test value") == "secret"  # read back from the file
    assert path.read_text() == first
    assert [p.name for p in updraft_home.iterdir() if "fernet" in p.name] == ["fernet_key"]


def test_invalid_configured_key_is_named(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_key(monkeypatch, f"{NEW_KEY},not-a-key")
    with pytest.raises(fernet.InvalidFernetKey, match=r"core\.fernet_key: key #2"):
        fernet.encrypt("x")
