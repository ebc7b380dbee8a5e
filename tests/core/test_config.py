"""Configuration: defaults, updraft.cfg, env vars (UPDRAFT__ and AIRFLOW__), typed getters, listing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from updraft.core.config import (
    DEFAULTS,
    UpdraftConfigError,
    conf,
    config_file_path,
    list_options,
    updraft_home,
)


def write_cfg(home: Path, text: str) -> None:
    (home / "updraft.cfg").write_text(text, encoding="utf-8")
    conf.reload()


def test_defaults(updraft_home: Path) -> None:
    assert conf.get("core", "parallelism") == "32"
    assert conf.getint("core", "parallelism") == 32
    assert conf.getboolean("core", "load_examples") is False
    assert conf.getboolean("core", "dags_are_paused_at_creation") is True
    assert conf.getfloat("scheduler", "task_instance_heartbeat_timeout") == 300.0
    assert conf.get("core", "default_task_execution_timeout") == ""
    assert conf.get("webserver", "base_url") == "http://localhost:8080"


def test_updraft_home_is_substituted_in_defaults(updraft_home: Path) -> None:
    assert conf.get("core", "dags_folder") == f"{updraft_home}/dags"
    assert conf.get("logging", "base_log_folder") == f"{updraft_home}/logs"
    assert conf.get("database", "sql_alchemy_conn") == f"sqlite:///{updraft_home}/updraft.db"


def test_updraft_home_defaults_to_home_dir_and_is_created_on_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UPDRAFT_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert not (tmp_path / "updraft").exists()
    assert config_file_path() == tmp_path / "updraft" / "updraft.cfg"
    assert updraft_home() == tmp_path / "updraft"
    assert (tmp_path / "updraft").is_dir()


def test_importing_config_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "not_yet"
    env = {**os.environ, "UPDRAFT_HOME": str(home)}
    code = "from updraft.core.config import conf; conf.get('core', 'dags_folder')"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert not home.exists()


def test_file_overrides_default(updraft_home: Path) -> None:
    write_cfg(updraft_home, "[core]\nparallelism = 4\n\n[Scheduler]\nTask_Instance_Heartbeat_Timeout = 9\n")
    assert conf.getint("core", "parallelism") == 4
    assert conf.getint("scheduler", "task_instance_heartbeat_timeout") == 9
    assert conf.getint("core", "max_active_runs_per_dag") == 16  # untouched default


def test_file_values_are_not_interpolated(updraft_home: Path) -> None:
    write_cfg(updraft_home, "[database]\nsql_alchemy_conn = postgresql://u:p%%40ss@h/db\n")
    assert conf.get("database", "sql_alchemy_conn") == "postgresql://u:p%%40ss@h/db"


def test_env_overrides_file_and_is_read_live(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_cfg(updraft_home, "[core]\nparallelism = 4\n")
    monkeypatch.setenv("UPDRAFT__CORE__PARALLELISM", "7")
    assert conf.getint("core", "parallelism") == 7
    monkeypatch.setenv("UPDRAFT__CORE__PARALLELISM", "8")  # no reload needed
    assert conf.getint("core", "parallelism") == 8
    monkeypatch.delenv("UPDRAFT__CORE__PARALLELISM")
    assert conf.getint("core", "parallelism") == 4


def test_airflow_env_var_is_a_fallback(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_cfg(updraft_home, "[core]\nload_examples = false\n")
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "True")
    assert conf.getboolean("core", "load_examples") is True
    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", "off")
    assert conf.getboolean("core", "load_examples") is False


def test_lookups_ignore_case(updraft_home: Path) -> None:
    assert conf.getint("CORE", "Parallelism") == 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[("true", True), ("TRUE", True), ("1", True), ("Yes", True), ("on", True)],
        *[("false", False), ("False", False), ("0", False), ("NO", False), ("off", False), (" off ", False)],
    ],
)
def test_boolean_spellings(
    updraft_home: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: bool
) -> None:
    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", text)
    assert conf.getboolean("core", "load_examples") is expected


def test_bad_boolean_names_section_and_key(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", "maybe")
    with pytest.raises(UpdraftConfigError, match=r"\[core\] load_examples must be a boolean.*'maybe'"):
        conf.getboolean("core", "load_examples")


def test_bad_integer_names_section_and_key(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT__CORE__PARALLELISM", "lots")
    with pytest.raises(UpdraftConfigError, match=r"\[core\] parallelism must be an integer"):
        conf.getint("core", "parallelism")
    monkeypatch.setenv("UPDRAFT__CORE__PARALLELISM", "1.5x")
    with pytest.raises(UpdraftConfigError, match=r"\[core\] parallelism must be a number"):
        conf.getfloat("core", "parallelism")


def test_unknown_option(updraft_home: Path) -> None:
    with pytest.raises(UpdraftConfigError, match=r"\[core\] no_such_key is not set") as excinfo:
        conf.get("core", "no_such_key")
    assert isinstance(excinfo.value, KeyError)
    assert str(excinfo.value).startswith("config option [core] no_such_key")  # not quoted like KeyError
    assert not conf.has_option("core", "no_such_key")
    assert conf.get("core", "no_such_key", fallback=None) is None
    assert conf.getint("core", "no_such_key", fallback=3) == 3
    assert conf.getboolean("nosection", "x", fallback=False) is False


def test_options_outside_defaults_come_from_file_and_env(
    updraft_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_cfg(updraft_home, "[custom]\nfrom_file = a\n")
    monkeypatch.setenv("UPDRAFT__CUSTOM__FROM_ENV", "b")
    assert conf.has_option("custom", "from_file")
    assert conf.get("custom", "from_file") == "a"
    assert conf.get("custom", "from_env") == "b"


def test_broken_file_is_reported_with_its_path(updraft_home: Path) -> None:
    write_cfg(updraft_home, "parallelism = 4\n")  # no section header
    with pytest.raises(UpdraftConfigError, match=r"cannot parse config file .*updraft\.cfg"):
        conf.get("core", "parallelism")


def test_as_dict_shows_values_and_sources(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_cfg(updraft_home, "[core]\nparallelism = 4\n")
    monkeypatch.setenv("UPDRAFT__CORE__MAX_MAP_LENGTH", "10")
    monkeypatch.setenv("AIRFLOW__CUSTOM__THING", "x")
    listed = conf.as_dict(display_source=True)
    assert listed["core"]["parallelism"] == ("4", "updraft.cfg")
    assert listed["core"]["max_map_length"] == ("10", "env var")
    assert listed["core"]["load_examples"] == ("False", "default")
    assert listed["custom"]["thing"] == ("x", "env var")
    assert listed["database"]["sql_alchemy_conn"] == ("< hidden >", "default")
    plain = conf.as_dict(display_sensitive=True)
    assert plain["core"]["parallelism"] == "4"
    assert plain["database"]["sql_alchemy_conn"] == f"sqlite:///{updraft_home}/updraft.db"
    every_default = {(o.section, o.key) for o in DEFAULTS}
    assert every_default <= {(s, k) for s, keys in listed.items() for k in keys}


def test_list_options_documents_every_default() -> None:
    options = list_options()
    assert len(options) == len(DEFAULTS) == len({(o.section, o.key) for o in options})
    assert all(o.description for o in options)
    by_key = {(o.section, o.key): o for o in options}
    assert by_key[("core", "max_map_length")].default == "1024"
    assert by_key[("core", "max_map_length")].env_var == "UPDRAFT__CORE__MAX_MAP_LENGTH"
    assert by_key[("core", "fernet_key")].sensitive
