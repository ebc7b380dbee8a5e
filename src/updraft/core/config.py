"""Updraft's configuration: built-in defaults, ``updraft.cfg`` and environment variables.

This module owns where settings come from and in which order they win:

1. ``UPDRAFT__SECTION__KEY`` environment variable (read live on every lookup);
2. ``AIRFLOW__SECTION__KEY`` environment variable, for Airflow compatibility, then the
   environment variables of the Airflow names of the option where Airflow calls it otherwise
   (:data:`AIRFLOW_ALIASES`, e.g. ``AIRFLOW__WEBSERVER__WEB_SERVER_PORT`` for ``[api] port``);
3. ``$UPDRAFT_HOME/updraft.cfg`` (an optional INI file, parsed once and cached);
4. the built-in defaults in :data:`DEFAULTS`.

Looking an option up by one of its Airflow names (``conf.get("core", "sql_alchemy_conn")``) gives
the value of updraft's option, as Airflow does for its renamed options. The ``_CMD`` and
``_SECRET`` forms of Airflow's environment variables are not supported.

``UPDRAFT_HOME`` defaults to ``~/updraft``. A default may contain ``{UPDRAFT_HOME}``, which is replaced by
that directory. Use the module-level :data:`conf` singleton::

    from updraft.core.config import conf

    conf.getint("core", "parallelism")
"""

from __future__ import annotations

import configparser
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar, overload

from updraft.sdk.exceptions import UpdraftException

__all__ = [
    "AIRFLOW_ALIASES",
    "DEFAULTS",
    "ConfigOption",
    "UpdraftConfig",
    "UpdraftConfigError",
    "conf",
    "config_file_path",
    "list_options",
    "updraft_home",
]

T = TypeVar("T")
Source = Literal["default", "updraft.cfg", "env var"]
_HOME_TOKEN = "{UPDRAFT_HOME}"
_ENV_PREFIXES = ("UPDRAFT", "AIRFLOW")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_HIDDEN = "< hidden >"


class UpdraftConfigError(UpdraftException, KeyError):
    """A configuration option is missing or its value has the wrong type."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class ConfigOption:
    """One built-in option: where it lives, its default (as text) and what it means."""

    section: str
    key: str
    default: str
    description: str
    sensitive: bool = False

    @property
    def env_var(self) -> str:
        return f"UPDRAFT__{self.section.upper()}__{self.key.upper()}"


def _opt(section: str, key: str, default: str, description: str, sensitive: bool = False) -> ConfigOption:
    return ConfigOption(section, key, default, description, sensitive)


#: Every built-in option, in the order ``updraft config list`` shows them.
DEFAULTS: tuple[ConfigOption, ...] = (
    _opt("core", "dags_folder", "{UPDRAFT_HOME}/dags", "Folder that holds the DAG files."),
    _opt("core", "load_examples", "False", "Also load the example DAGs shipped with updraft."),
    _opt("core", "default_timezone", "utc", "Time zone of naive datetimes in DAG files."),
    _opt("core", "max_map_length", "1024", "Most task instances one mapped task may expand into."),
    _opt("core", "xcom_max_size_bytes", "1048576", "Largest encoded XCom value accepted, in bytes."),
    _opt("core", "parallelism", "32", "Most task instances running at once, across all DAGs."),
    _opt("core", "max_active_tasks_per_dag", "16", "Default max_active_tasks of a DAG."),
    _opt("core", "max_active_runs_per_dag", "16", "Default max_active_runs of a DAG."),
    _opt("core", "dags_are_paused_at_creation", "True", "New DAGs start paused."),
    _opt("core", "dagbag_import_timeout", "30", "Seconds a DAG file may take to import."),
    _opt("core", "default_task_retries", "0", "Default retries of a task."),
    _opt("core", "default_task_retry_delay", "300", "Default seconds between two tries of a task."),
    _opt("core", "max_task_retry_delay", "86400", "Upper bound, in seconds, of any retry delay."),
    _opt("core", "default_task_execution_timeout", "", "Default execution_timeout in seconds; empty: none."),
    _opt("core", "fernet_key", "", "Key that encrypts connection passwords and variables.", sensitive=True),
    _opt("core", "airflow_compat", "True", "Let DAG files import from the `airflow` package."),
    _opt(
        "database",
        "sql_alchemy_conn",
        "sqlite:///{UPDRAFT_HOME}/updraft.db",
        "URL of the metadata database (sqlite:// or postgresql://).",
        sensitive=True,
    ),
    _opt("database", "sql_alchemy_pool_size", "5", "Connections kept open per process (PostgreSQL)."),
    _opt("database", "load_default_connections", "False", "Create example connections on first setup."),
    _opt("logging", "base_log_folder", "{UPDRAFT_HOME}/logs", "Folder of the task logs."),
    _opt("logging", "logging_level", "INFO", "Level of updraft's own log messages."),
    _opt("scheduler", "create_cron_data_intervals", "False", "Cron schedules get data intervals."),
    _opt("scheduler", "create_delta_data_intervals", "False", "timedelta schedules get data intervals."),
    _opt(
        "scheduler",
        "task_instance_heartbeat_timeout",
        "300",
        "Seconds without a heartbeat after which a running task counts as lost.",
    ),
    _opt(
        "scheduler",
        "idle_poll_interval",
        "1.0",
        "Seconds the scheduler sleeps at most when idle; it sees changes made by other processes then.",
    ),
    _opt(
        "scheduler",
        "shutdown_grace_period",
        "30",
        "On SIGTERM, seconds running tasks may finish before they are stopped (and run again later).",
    ),
    _opt("scheduler", "executor_workers", "2", "Warm worker processes of the local executor."),
    _opt("dag_processor", "min_file_process_interval", "30", "Seconds between two parses of one file."),
    _opt("dag_processor", "parsing_processes", "2", "DAG files parsed at once, each in its own process."),
    _opt("dag_processor", "refresh_interval", "5", "Seconds between two listings of the DAG folder."),
    _opt(
        "scheduler",
        "scheduler_health_check_threshold",
        "30",
        "Seconds since the newest scheduler heartbeat after which /health calls the scheduler unhealthy.",
    ),
    _opt("webserver", "base_url", "http://localhost:8080", "URL the web UI is reached at."),
    _opt("smtp", "smtp_host", "localhost", "SMTP server for email when no smtp_default connection exists."),
    _opt("smtp", "smtp_port", "25", "Port of the SMTP server."),
    _opt("smtp", "smtp_starttls", "True", "Upgrade the SMTP connection with STARTTLS before logging in."),
    _opt("smtp", "smtp_ssl", "False", "Use implicit TLS (SMTPS) instead of plain SMTP."),
    _opt("smtp", "smtp_user", "", "Login for the SMTP server; empty: no login."),
    _opt("smtp", "smtp_password", "", "Password for the SMTP login.", sensitive=True),
    _opt("smtp", "smtp_mail_from", "updraft@example.com", "Sender of emails that name none."),
    _opt("smtp", "smtp_timeout", "30", "Seconds to wait for the SMTP server."),
    _opt("api", "host", "127.0.0.1", "Address the API server (and `updraft standalone`) listens on."),
    _opt("api", "port", "8080", "Port the API server (and `updraft standalone`) listens on."),
    _opt("api", "workers", "1", "Worker processes of `updraft api-server`."),
    _opt(
        "api",
        "worker_threads",
        "4",
        "Threads per API worker that run request handlers; few avoid thrashing Python's lock, more help "
        "when handlers wait on a slow database.",
    ),
    _opt("api", "access_token_expiration", "86400", "Seconds a token from POST /auth/token stays valid."),
    _opt(
        "api",
        "secret_key",
        "",
        "Key that signs API tokens and session cookies; empty: generated into $UPDRAFT_HOME/api_secret_key.",
        sensitive=True,
    ),
    _opt("api", "login_rate_limit", "5", "Failed logins per username or client address before a 429."),
    _opt("api", "login_rate_window", "60", "Seconds over which failed logins are counted."),
    _opt("secrets", "backend", "", "SecretsBackend class (dotted path) asked after env vars, before the DB."),
    _opt("secrets", "backend_kwargs", "", "JSON keyword arguments of [secrets] backend.", sensitive=True),
    _opt("core", "test_connection", "Disabled", "Enabled: the API may test connections with their hooks."),
)

_DEFAULTS_BY_KEY: dict[tuple[str, str], ConfigOption] = {(o.section, o.key): o for o in DEFAULTS}

#: Airflow's names (current or from older versions) of options updraft keeps under another
#: section or key: ``(airflow section, airflow key) -> (section, key)``. Options whose names are
#: the same in both (``[core] dags_folder``, ``[core] fernet_key``, ``[smtp] smtp_host``...)
#: need no entry.
AIRFLOW_ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    ("core", "sql_alchemy_conn"): ("database", "sql_alchemy_conn"),  # before Airflow 2.3
    ("core", "sql_alchemy_pool_size"): ("database", "sql_alchemy_pool_size"),
    ("core", "load_default_connections"): ("database", "load_default_connections"),
    ("core", "dag_concurrency"): ("core", "max_active_tasks_per_dag"),  # before Airflow 2.2
    ("core", "base_log_folder"): ("logging", "base_log_folder"),  # before Airflow 2.0
    ("core", "logging_level"): ("logging", "logging_level"),
    ("scheduler", "scheduler_zombie_task_threshold"): ("scheduler", "task_instance_heartbeat_timeout"),
    ("scheduler", "min_file_process_interval"): ("dag_processor", "min_file_process_interval"),
    ("scheduler", "parsing_processes"): ("dag_processor", "parsing_processes"),
    ("scheduler", "max_threads"): ("dag_processor", "parsing_processes"),
    ("scheduler", "dag_dir_list_interval"): ("dag_processor", "refresh_interval"),
    ("api", "base_url"): ("webserver", "base_url"),  # Airflow 3
    ("webserver", "web_server_host"): ("api", "host"),  # Airflow 2
    ("webserver", "web_server_port"): ("api", "port"),
    ("webserver", "workers"): ("api", "workers"),
    ("webserver", "secret_key"): ("api", "secret_key"),
    ("api_auth", "jwt_expiration_time"): ("api", "access_token_expiration"),
}


def _aliases_by_option() -> dict[tuple[str, str], list[tuple[str, str]]]:
    by_option: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for alias, option in AIRFLOW_ALIASES.items():
        by_option.setdefault(option, []).append(alias)
    return by_option


#: The inverse of AIRFLOW_ALIASES: each option's Airflow names, the newer first.
_ALIASES_OF = _aliases_by_option()


def list_options() -> list[ConfigOption]:
    """Every built-in option with its documented default, in display order."""
    return list(DEFAULTS)


def _home_path() -> Path:
    return Path(os.environ.get("UPDRAFT_HOME") or "~/updraft").expanduser()


def updraft_home() -> Path:
    """The ``UPDRAFT_HOME`` directory, created if it does not exist yet."""
    home = _home_path()
    home.mkdir(parents=True, exist_ok=True)
    return home


def config_file_path() -> Path:
    """Where the optional ``updraft.cfg`` file is looked for."""
    return _home_path() / "updraft.cfg"


def _env_names(section: str, key: str) -> Iterator[str]:
    """The env vars that set ``[section] key``, the winning one first."""
    for prefix in _ENV_PREFIXES:
        yield f"{prefix}__{section.upper()}__{key.upper()}"
    for alias_section, alias_key in _ALIASES_OF.get((section, key), ()):
        yield f"AIRFLOW__{alias_section.upper()}__{alias_key.upper()}"


class UpdraftConfig:
    """Reads options from env vars, ``updraft.cfg`` and defaults, in that order of precedence."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._file_path: Path | None = None
        self._file: dict[str, dict[str, str]] = {}

    # -- sources ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """Forget the parsed config file; the next lookup reads it again."""
        with self._lock:
            self._file_path = None
            self._file = {}

    def file_section(self, section: str) -> dict[str, str]:
        """The options of ``[section]`` written in updraft.cfg (none of the defaults or env vars)."""
        return dict(self._file_values().get(section.lower(), {}))

    def _file_values(self) -> dict[str, dict[str, str]]:
        path = config_file_path()
        with self._lock:
            if self._file_path != path:
                self._file = self._parse(path)
                self._file_path = path
            return self._file

    @staticmethod
    def _parse(path: Path) -> dict[str, dict[str, str]]:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with open(path, encoding="utf-8") as fh:
                parser.read_file(fh)
        except FileNotFoundError:
            return {}
        except configparser.Error as exc:
            raise UpdraftConfigError(f"cannot parse config file {path}: {exc}") from exc
        return {
            section.lower(): {key.lower(): value for key, value in parser.items(section, raw=True)}
            for section in parser.sections()
        }

    def _lookup(self, section: str, key: str) -> tuple[str, Source] | None:
        # An Airflow name of one of our options means that option (whose env vars include it).
        section, key = AIRFLOW_ALIASES.get((section, key), (section, key))
        for name in _env_names(section, key):
            value = os.environ.get(name)
            if value is not None:
                return value, "env var"
        file_value = self._file_values().get(section, {}).get(key)
        if file_value is not None:
            return file_value, "updraft.cfg"
        option = _DEFAULTS_BY_KEY.get((section, key))
        if option is not None:
            return option.default.replace(_HOME_TOKEN, str(_home_path())), "default"
        return None

    # -- typed getters ---------------------------------------------------------------------------

    @overload
    def get(self, section: str, key: str) -> str: ...
    @overload
    def get(self, section: str, key: str, fallback: T) -> str | T: ...

    def get(self, section: str, key: str, fallback: object = ...) -> object:
        """The option's value as text; ``fallback`` (if given) when no source sets it."""
        section, key = section.lower(), key.lower()
        found = self._lookup(section, key)
        if found is not None:
            return found[0]
        if fallback is not ...:
            return fallback
        raise UpdraftConfigError(
            f"config option [{section}] {key} is not set and has no default "
            f"(set it in {config_file_path()} or as env var UPDRAFT__{section.upper()}__{key.upper()})"
        )

    def has_option(self, section: str, key: str) -> bool:
        """Whether any source (env var, file or default) sets ``[section] key``."""
        return self._lookup(section.lower(), key.lower()) is not None

    @overload
    def getboolean(self, section: str, key: str) -> bool: ...
    @overload
    def getboolean(self, section: str, key: str, fallback: T) -> bool | T: ...

    def getboolean(self, section: str, key: str, fallback: object = ...) -> object:
        """The option as a bool: true/false, 1/0, yes/no or on/off, in any case."""
        value = self.get(section, key, fallback)
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise UpdraftConfigError(
            f"config option [{section.lower()}] {key.lower()} must be a boolean "
            f"(true/false, 1/0, yes/no, on/off), got {value!r}"
        )

    @overload
    def getint(self, section: str, key: str) -> int: ...
    @overload
    def getint(self, section: str, key: str, fallback: T) -> int | T: ...

    def getint(self, section: str, key: str, fallback: object = ...) -> object:
        """The option as an int."""
        value = self.get(section, key, fallback)
        if not isinstance(value, str):
            return value
        try:
            return int(value.strip())
        except ValueError:
            raise UpdraftConfigError(
                f"config option [{section.lower()}] {key.lower()} must be an integer, got {value!r}"
            ) from None

    @overload
    def getfloat(self, section: str, key: str) -> float: ...
    @overload
    def getfloat(self, section: str, key: str, fallback: T) -> float | T: ...

    def getfloat(self, section: str, key: str, fallback: object = ...) -> object:
        """The option as a float."""
        value = self.get(section, key, fallback)
        if not isinstance(value, str):
            return value
        try:
            return float(value.strip())
        except ValueError:
            raise UpdraftConfigError(
                f"config option [{section.lower()}] {key.lower()} must be a number, got {value!r}"
            ) from None

    # -- listing ---------------------------------------------------------------------------------

    def _all_keys(self) -> list[tuple[str, str]]:
        keys: dict[tuple[str, str], None] = dict.fromkeys(_DEFAULTS_BY_KEY)
        for section, values in self._file_values().items():
            keys.update(dict.fromkeys((section, key) for key in values))
        for name in os.environ:
            parts = name.split("__")
            if len(parts) == 3 and parts[0] in _ENV_PREFIXES and parts[1] and parts[2]:
                found = (parts[1].lower(), parts[2].lower())
                if found not in AIRFLOW_ALIASES:  # listed under updraft's name of the option
                    keys[found] = None
        return list(keys)

    def as_dict(
        self, display_source: bool = False, display_sensitive: bool = False
    ) -> dict[str, dict[str, str | tuple[str, str]]]:
        """Every option from every source, by section.

        Values are ``(value, source)`` pairs when ``display_source`` is true, where source is
        ``"default"``, ``"updraft.cfg"`` or ``"env var"``. Sensitive options (the database URL, the
        fernet key) show as ``"< hidden >"`` unless ``display_sensitive`` is true.
        """
        result: dict[str, dict[str, str | tuple[str, str]]] = {}
        for section, key in self._all_keys():
            found = self._lookup(section, key)
            if found is None:  # pragma: no cover - every listed key has a source
                continue
            value, source = found
            option = _DEFAULTS_BY_KEY.get((section, key))
            if option is not None and option.sensitive and not display_sensitive:
                value = _HIDDEN
            result.setdefault(section, {})[key] = (value, source) if display_source else value
        return result


#: The process-wide configuration.
conf = UpdraftConfig()
