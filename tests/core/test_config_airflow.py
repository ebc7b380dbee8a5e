"""Airflow's configuration names: ``AIRFLOW__SECTION__KEY`` env vars and Airflow's renamed options."""

from __future__ import annotations

from pathlib import Path

import pytest

from updraft.core.config import AIRFLOW_ALIASES, DEFAULTS, conf


def write_cfg(home: Path, text: str) -> None:
    (home / "updraft.cfg").write_text(text, encoding="utf-8")
    conf.reload()


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("core", "dags_folder", "/opt/dags"),
        ("core", "fernet_key", "k" * 44),
        ("core", "load_examples", "True"),
        ("core", "parallelism", "7"),
        ("database", "sql_alchemy_conn", "postgresql://u@db/airflow"),
        ("smtp", "smtp_host", "mail.example.com"),
        ("smtp", "smtp_port", "587"),
    ],
)
def test_airflow_env_var_sets_an_option_of_the_same_name(
    updraft_home: Path, monkeypatch: pytest.MonkeyPatch, section: str, key: str, value: str
) -> None:
    monkeypatch.setenv(f"AIRFLOW__{section.upper()}__{key.upper()}", value)
    assert conf.get(section, key) == value


def test_updraft_env_var_wins_over_airflow_env_var_which_wins_over_the_file(
    updraft_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_cfg(updraft_home, "[core]\nparallelism = 3\n")
    assert conf.getint("core", "parallelism") == 3
    monkeypatch.setenv("AIRFLOW__CORE__PARALLELISM", "5")
    assert conf.getint("core", "parallelism") == 5
    monkeypatch.setenv("UPDRAFT__CORE__PARALLELISM", "9")
    assert conf.getint("core", "parallelism") == 9


@pytest.mark.parametrize(
    ("airflow_name", "option", "value"),
    [
        ("AIRFLOW__CORE__SQL_ALCHEMY_CONN", ("database", "sql_alchemy_conn"), "postgresql://old@db/af"),
        ("AIRFLOW__WEBSERVER__WEB_SERVER_PORT", ("api", "port"), "8793"),
        ("AIRFLOW__WEBSERVER__WEB_SERVER_HOST", ("api", "host"), "0.0.0.0"),
        ("AIRFLOW__WEBSERVER__SECRET_KEY", ("api", "secret_key"), "s3cret"),
        ("AIRFLOW__API__BASE_URL", ("webserver", "base_url"), "https://af.example.com"),
        ("AIRFLOW__CORE__DAG_CONCURRENCY", ("core", "max_active_tasks_per_dag"), "4"),
        ("AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL", ("dag_processor", "refresh_interval"), "60"),
        (
            "AIRFLOW__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD",
            ("scheduler", "task_instance_heartbeat_timeout"),
            "600",
        ),
    ],
)
def test_airflow_names_of_renamed_options_set_ours(
    updraft_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    airflow_name: str,
    option: tuple[str, str],
    value: str,
) -> None:
    monkeypatch.setenv(airflow_name, value)
    assert conf.get(*option) == value
    # Asked by the Airflow name, as Airflow code (or a DAG file) would, the answer is the same.
    _, section, key = airflow_name.lower().split("__")
    assert conf.get(section, key) == value


def test_a_renamed_option_prefers_updraft_then_the_current_airflow_name(
    updraft_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_cfg(updraft_home, "[api]\nport = 1111\n")
    monkeypatch.setenv("AIRFLOW__WEBSERVER__WEB_SERVER_PORT", "2222")
    assert conf.getint("api", "port") == 2222  # any env var wins over the file
    monkeypatch.setenv("AIRFLOW__API__PORT", "3333")
    assert conf.getint("api", "port") == 3333  # Airflow's current name wins over its old one
    monkeypatch.setenv("UPDRAFT__API__PORT", "4444")
    assert conf.getint("api", "port") == 4444
    assert conf.getint("webserver", "web_server_port") == 4444


def test_airflow_name_without_a_value_falls_back_to_our_default(updraft_home: Path) -> None:
    assert conf.get("core", "sql_alchemy_conn") == f"sqlite:///{updraft_home}/updraft.db"
    assert conf.has_option("webserver", "web_server_port")
    assert conf.getint("webserver", "web_server_port") == 8080


def test_listing_shows_renamed_options_under_our_name_only(
    updraft_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__WEBSERVER__WEB_SERVER_PORT", "8793")
    listed = conf.as_dict(display_source=True)
    assert listed["api"]["port"] == ("8793", "env var")
    assert "web_server_port" not in listed.get("webserver", {})


def test_every_alias_points_at_a_documented_option_under_another_name() -> None:
    documented = {(o.section, o.key) for o in DEFAULTS}
    for alias, option in AIRFLOW_ALIASES.items():
        assert option in documented, alias
        assert alias not in documented, alias


def test_airflow_compat_is_documented_and_on_by_default(
    updraft_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    option = next(o for o in DEFAULTS if (o.section, o.key) == ("core", "airflow_compat"))
    assert option.default == "True" and option.description
    assert conf.getboolean("core", "airflow_compat") is True
    monkeypatch.setenv("AIRFLOW__CORE__AIRFLOW_COMPAT", "false")
    assert conf.getboolean("core", "airflow_compat") is False
