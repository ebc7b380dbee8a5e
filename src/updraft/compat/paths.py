"""Where each Airflow import path leads in Updraft: the data behind the ``airflow`` import hook.

``MODULES`` maps an Airflow module path to its names. A name maps to ``"module"`` (same name
there), ``"module:attribute"``, or ``"@airflow.path"`` (another Airflow module of this table). A module may instead map to a single string: every name of
that Updraft module is available under the Airflow path (``airflow.macros``).

Names are resolved on first use, so a DAG file pays only for what it imports. Targets are
authoring-side modules; the few runtime classes (``TaskInstance``, ``DagRun``) are named by
string and exist in every process that runs tasks.

``UNSUPPORTED`` explains, per Airflow module or name, why Updraft lacks it and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["AIRFLOW_VERSION", "MODULES", "UNSUPPORTED", "UNSUPPORTED_PROVIDER_ADVICE"]

# What ``airflow.__version__`` says: DAG files that branch on the version take their Airflow 3 path.
AIRFLOW_VERSION = "3.1.0"

Names = Mapping[str, str]

_SHIMS = "updraft.compat.shims"

# -- groups of names that appear under several paths ------------------------------------------

_DEPENDENCIES: Names = {
    "chain": "updraft.sdk.dependencies",
    "chain_linear": "updraft.sdk.dependencies",
    "cross_downstream": "updraft.sdk.dependencies",
}
_PARAMS: Names = {"Param": "updraft.sdk.params", "ParamsDict": "updraft.sdk.params"}
_ASSETS: Names = {
    "Asset": "updraft.sdk.assets",
    "AssetAll": "updraft.sdk.assets",
    "AssetAny": "updraft.sdk.assets",
    "AssetAlias": "updraft.sdk.assets",
    "Metadata": "updraft.sdk.assets",
    "asset": "updraft.sdk.assets",
}
_DATASETS: Names = {
    "Dataset": "updraft.sdk.assets",
    "DatasetAll": "updraft.sdk.assets:AssetAll",
    "DatasetAny": "updraft.sdk.assets:AssetAny",
    "DatasetAlias": "updraft.sdk.assets:AssetAlias",
}
_STATES: Names = {
    "State": f"{_SHIMS}.state",
    "TaskInstanceState": "updraft.sdk.states",
    "DagRunState": "updraft.sdk.states",
}
_SENSOR_BASE: Names = {
    "BaseSensorOperator": "updraft.operators.sensors.base",
    "PokeReturnValue": "updraft.operators.sensors.base",
    "poke_mode_only": f"{_SHIMS}.sensors",
}
_CONTEXT: Names = {
    "Context": f"{_SHIMS}.context",
    "get_current_context": "updraft.sdk.current_context",
    "get_parsing_context": f"{_SHIMS}.context",
}

_SDK: Names = {
    "DAG": "updraft.sdk.dag",
    "dag": "updraft.sdk.decorators",
    "task": "updraft.operators.taskflow",
    "task_group": "updraft.sdk.decorators",
    "setup": "updraft.operators.setup_teardown",
    "teardown": "updraft.operators.setup_teardown",
    "TaskGroup": "updraft.sdk.taskgroup",
    "BaseOperator": "updraft.sdk.baseoperator",
    "BaseOperatorLink": f"{_SHIMS}.models",
    "BaseHook": "updraft.sdk.base_hook",
    "BaseNotifier": "updraft.notifications.base",
    "Label": "updraft.sdk.edges",
    "EdgeModifier": "updraft.sdk.edges",
    "Variable": "updraft.sdk.variable",
    "Connection": "updraft.sdk.connection",
    "TriggerRule": "updraft.sdk.trigger_rule",
    "WeightRule": f"{_SHIMS}.models",
    "XComArg": "updraft.sdk.xcom_arg",
    "TaskInstanceState": "updraft.sdk.states",
    "DagRunState": "updraft.sdk.states",
    **_DEPENDENCIES,
    **_PARAMS,
    **_ASSETS,
    "BaseSensorOperator": "updraft.operators.sensors.base",
    "PokeReturnValue": "updraft.operators.sensors.base",
    **_CONTEXT,
}

_EXCEPTIONS = f"{_SHIMS}.exceptions"

# -- core operators, under both their Airflow 2 and their standard-provider paths ---------------

_OPERATORS: dict[str, Names] = {
    "bash": {"BashOperator": "updraft.operators.bash"},
    "python": {
        "PythonOperator": "updraft.operators.python",
        "BranchPythonOperator": "updraft.operators.python",
        "ShortCircuitOperator": "updraft.operators.python",
        "PythonVirtualenvOperator": "updraft.operators",
        "BranchPythonVirtualenvOperator": "updraft.operators",
        "ExternalPythonOperator": "updraft.operators",
        "BranchExternalPythonOperator": "updraft.operators",
        "get_current_context": "updraft.sdk.current_context",
        "is_venv_installed": f"{_SHIMS}.helpers",
    },
    "empty": {"EmptyOperator": "updraft.operators.empty"},
    "email": {"EmailOperator": "updraft.operators.email"},
    "trigger_dagrun": {"TriggerDagRunOperator": "updraft.operators.trigger_dagrun"},
    "latest_only": {"LatestOnlyOperator": "updraft.operators.latest_only"},
    "branch": {"BaseBranchOperator": "updraft.operators.branch", "BranchMixIn": "updraft.operators.branch"},
    "datetime": {
        "BranchDateTimeOperator": "updraft.operators",
    },
    "weekday": {"BranchDayOfWeekOperator": "updraft.operators"},
    "generic_transfer": {"GenericTransfer": "updraft.operators"},
}
_SQL_OPERATORS: Names = {
    name: "updraft.providers.common.sql"
    for name in (
        "SQLExecuteQueryOperator",
        "SQLCheckOperator",
        "SQLValueCheckOperator",
        "SQLIntervalCheckOperator",
        "SQLThresholdCheckOperator",
        "SQLColumnCheckOperator",
        "SQLTableCheckOperator",
        "BaseSQLOperator",
    )
}
_SQL_BRANCH: Names = {"BranchSQLOperator": "updraft.operators.branch_sql"}
_SQL_SENSOR: Names = {"SqlSensor": "updraft.operators.sensors.sql"}

_OLD_OPERATOR_MODULES: dict[str, Names] = {
    "dummy": {"DummyOperator": "updraft.operators.empty", "EmptyOperator": "updraft.operators.empty"},
    # Airflow 1 module names, still found in old DAG folders.
    "dummy_operator": {"DummyOperator": "updraft.operators.empty"},
    "bash_operator": {"BashOperator": "updraft.operators.bash"},
    "python_operator": {
        "PythonOperator": "updraft.operators.python",
        "BranchPythonOperator": "updraft.operators.python",
        "ShortCircuitOperator": "updraft.operators.python",
    },
    "email_operator": {"EmailOperator": "updraft.operators.email"},
    "latest_only_operator": {"LatestOnlyOperator": "updraft.operators.latest_only"},
    "dagrun_operator": {"TriggerDagRunOperator": "updraft.operators.trigger_dagrun"},
    "slack": {
        "SlackAPIPostOperator": "updraft.providers.slack",
        "SlackWebhookOperator": "updraft.providers.slack",
    },
    "slack_operator": {"SlackAPIPostOperator": "updraft.providers.slack"},
    "sql": {**_SQL_OPERATORS, **_SQL_BRANCH},
    "sql_branch_operator": {
        **_SQL_BRANCH,
        "BranchSqlOperator": "updraft.operators.branch_sql:BranchSQLOperator",
    },
    "check_operator": {
        **{name: _SQL_OPERATORS[name] for name in _SQL_OPERATORS if name.endswith("CheckOperator")},
        **{
            old: f"updraft.providers.common.sql:SQL{old}"
            for old in (
                "CheckOperator",
                "IntervalCheckOperator",
                "ThresholdCheckOperator",
                "ValueCheckOperator",
            )
        },
    },
    "http_operator": {"SimpleHttpOperator": "updraft.providers.http"},
    "postgres_operator": {"PostgresOperator": "updraft.providers.postgres"},
    "sqlite_operator": {"SqliteOperator": "updraft.providers.sqlite"},
}
_SENSORS: dict[str, Names] = {
    "base": _SENSOR_BASE,
    "time_delta": {
        "TimeDeltaSensor": "updraft.operators.sensors.time_delta",
        "TimeDeltaSensorAsync": "updraft.operators.sensors",
        "WaitSensor": "updraft.operators.sensors",
    },
    "date_time": {
        "DateTimeSensor": "updraft.operators.sensors.date_time",
        "DateTimeSensorAsync": "updraft.operators.sensors",
    },
    "time": {"TimeSensor": "updraft.operators.sensors", "TimeSensorAsync": "updraft.operators.sensors"},
    "filesystem": {"FileSensor": "updraft.operators.sensors.filesystem"},
    "python": {"PythonSensor": "updraft.operators.sensors.python"},
    "external_task": {
        "ExternalTaskSensor": "updraft.operators.sensors.external_task",
        "ExternalTaskMarker": "updraft.operators.sensors.external_task",
    },
    "bash": {"BashSensor": "updraft.operators.sensors.bash"},
    "weekday": {"DayOfWeekSensor": "updraft.operators.sensors.weekday"},
}
_OLD_SENSOR_MODULES: dict[str, Names] = {
    "sql": _SQL_SENSOR,
    "sql_sensor": _SQL_SENSOR,
    "time_sensor": _SENSORS["time"],
    "base_sensor_operator": {"BaseSensorOperator": "updraft.operators.sensors.base"},
    "external_task_sensor": _SENSORS["external_task"],
    "python_sensor": _SENSORS["python"],
    "bash_sensor": _SENSORS["bash"],
}

_WEEKDAY: Names = {"WeekDay": "updraft.operators.sensors.weekday"}

# -- providers bundled with Updraft ------------------------------------------------------------

_SQL_HOOKS: Names = {
    "DbApiHook": "updraft.providers.common.sql",
    "fetch_all_handler": "updraft.providers.common.sql.hooks.handlers",
    "fetch_one_handler": "updraft.providers.common.sql.hooks.handlers",
    "return_single_query_results": "updraft.providers.common.sql.hooks.handlers",
}

_PROVIDERS: dict[str, Names] = {
    "airflow.providers.common.sql.operators.sql": {**_SQL_OPERATORS, **_SQL_BRANCH},
    "airflow.providers.common.sql.sensors.sql": _SQL_SENSOR,
    "airflow.providers.common.sql.operators.generic_transfer": {"GenericTransfer": "updraft.operators"},
    "airflow.providers.common.sql.hooks.sql": _SQL_HOOKS,
    "airflow.providers.common.sql.hooks.handlers": {k: v for k, v in _SQL_HOOKS.items() if k != "DbApiHook"},
    "airflow.providers.postgres.hooks.postgres": {"PostgresHook": "updraft.providers.postgres"},
    "airflow.providers.postgres.operators.postgres": {"PostgresOperator": "updraft.providers.postgres"},
    "airflow.providers.sqlite.hooks.sqlite": {"SqliteHook": "updraft.providers.sqlite"},
    "airflow.providers.sqlite.operators.sqlite": {"SqliteOperator": "updraft.providers.sqlite"},
    "airflow.providers.http.hooks.http": {"HttpHook": "updraft.providers.http"},
    "airflow.providers.http.operators.http": {
        "HttpOperator": "updraft.providers.http",
        "SimpleHttpOperator": "updraft.providers.http",
    },
    "airflow.providers.http.sensors.http": {"HttpSensor": "updraft.operators.sensors.http"},
    "airflow.providers.smtp.hooks.smtp": {"SmtpHook": "updraft.providers.smtp.hook"},
    "airflow.providers.smtp.operators.smtp": {"EmailOperator": "updraft.operators.email"},
    "airflow.providers.smtp.notifications.smtp": {
        "SmtpNotifier": "updraft.notifications.email:EmailNotifier",
        "send_smtp_notification": f"{_SHIMS}.notifications",
    },
    "airflow.providers.slack.hooks.slack": {"SlackHook": "updraft.providers.slack"},
    "airflow.providers.slack.hooks.slack_webhook": {"SlackWebhookHook": "updraft.providers.slack"},
    "airflow.providers.slack.operators.slack": {
        "SlackAPIPostOperator": "updraft.providers.slack",
    },
    "airflow.providers.slack.operators.slack_webhook": {"SlackWebhookOperator": "updraft.providers.slack"},
    "airflow.providers.slack.notifications.slack": {
        "SlackNotifier": "updraft.notifications.slack",
        "send_slack_notification": f"{_SHIMS}.notifications",
    },
    "airflow.providers.slack.notifications.slack_webhook": {
        "SlackWebhookNotifier": "updraft.notifications.slack:SlackNotifier",
        "send_slack_webhook_notification": f"{_SHIMS}.notifications",
    },
    "airflow.providers.standard.utils.weekday": _WEEKDAY,
    "airflow.providers.standard.version_compat": {
        "AIRFLOW_V_3_0_PLUS": f"{_SHIMS}.version",
        "AIRFLOW_V_3_1_PLUS": f"{_SHIMS}.version",
        "AIRFLOW_V_3_2_PLUS": f"{_SHIMS}.version",
        "BaseOperator": "updraft.sdk.baseoperator",
    },
    "airflow.providers.standard.triggers.temporal": {},
    "airflow.providers.common.compat.sdk": {
        **_SDK,
        "AirflowException": _EXCEPTIONS,
        "AirflowSkipException": _EXCEPTIONS,
        "AirflowFailException": _EXCEPTIONS,
        "timezone": "@airflow.sdk.timezone",
    },
    "airflow.providers.common.compat.standard.operators": {
        "BaseOperator": "updraft.sdk.baseoperator",
        "PythonOperator": "updraft.operators.python",
        "ShortCircuitOperator": "updraft.operators.python",
        "get_current_context": "updraft.sdk.current_context",
    },
    "airflow.providers.common.compat.assets": {**_ASSETS, **_DATASETS},
}
for _name, _names in _OPERATORS.items():
    _PROVIDERS[f"airflow.providers.standard.operators.{_name}"] = _names
for _name, _names in _SENSORS.items():
    _PROVIDERS[f"airflow.providers.standard.sensors.{_name}"] = _names
_PROVIDERS["airflow.providers.standard.operators.smooth"] = {}
_PROVIDERS["airflow.providers.standard.decorators"] = {}

# -- Airflow core -------------------------------------------------------------------------------

_TIMETABLES = "updraft.sdk.timetables"
_MORE_TIMETABLES = "updraft.sdk.timetables_extra"

MODULES: dict[str, Names | str] = {
    "airflow": {
        "DAG": "updraft.sdk.dag",
        "Dataset": "updraft.sdk.assets",
        "Asset": "updraft.sdk.assets",
        "XComArg": "updraft.sdk.xcom_arg",
        "AirflowException": _EXCEPTIONS,
        "__version__": f"{_SHIMS}.version",
    },
    "airflow.sdk": {
        **_SDK,
        "AssetOrTimeSchedule": _TIMETABLES,
        "CronTriggerTimetable": _TIMETABLES,
        "CronDataIntervalTimetable": _TIMETABLES,
        "DeltaDataIntervalTimetable": _TIMETABLES,
        "DeltaTriggerTimetable": _TIMETABLES,
        "EventsTimetable": _MORE_TIMETABLES,
        "MultipleCronTriggerTimetable": _MORE_TIMETABLES,
        "__version__": f"{_SHIMS}.version",
        "timezone": "@airflow.sdk.timezone",
    },
    "airflow.sdk.bases.operator": {"BaseOperator": "updraft.sdk.baseoperator", **_DEPENDENCIES},
    "airflow.sdk.bases.sensor": _SENSOR_BASE,
    "airflow.sdk.bases.hook": {"BaseHook": "updraft.sdk.base_hook"},
    "airflow.sdk.bases.notifier": {"BaseNotifier": "updraft.notifications.base"},
    "airflow.sdk.bases.decorator": {},
    "airflow.sdk.definitions.asset": {**_ASSETS},
    "airflow.sdk.definitions.param": _PARAMS,
    "airflow.sdk.definitions.context": _CONTEXT,
    "airflow.sdk.definitions.template": {},
    "airflow.sdk.timezone": f"{_SHIMS}.timezone",
    "airflow.decorators": {
        "dag": "updraft.sdk.decorators",
        "task": "updraft.operators.taskflow",
        "task_group": "updraft.sdk.decorators",
        "setup": "updraft.operators.setup_teardown",
        "teardown": "updraft.operators.setup_teardown",
    },
    "airflow.models": {
        "DAG": "updraft.sdk.dag",
        "BaseOperator": "updraft.sdk.baseoperator",
        "BaseOperatorLink": f"{_SHIMS}.models",
        "Variable": "updraft.sdk.variable",
        "Connection": "updraft.sdk.connection",
        "Param": "updraft.sdk.params",
        "TaskInstance": f"{_SHIMS}.models",
        "DagRun": f"{_SHIMS}.models",
        "XCom": f"{_SHIMS}.models",
        "MappedOperator": "updraft.sdk.mapping",
    },
    "airflow.models.dag": {"DAG": "updraft.sdk.dag"},
    "airflow.models.baseoperator": {
        "BaseOperator": "updraft.sdk.baseoperator",
        "BaseOperatorLink": f"{_SHIMS}.models",
        **_DEPENDENCIES,
    },
    "airflow.models.baseoperatorlink": {"BaseOperatorLink": f"{_SHIMS}.models"},
    "airflow.models.param": _PARAMS,
    "airflow.models.variable": {"Variable": "updraft.sdk.variable"},
    "airflow.models.connection": {"Connection": "updraft.sdk.connection"},
    "airflow.models.taskinstance": {"TaskInstance": f"{_SHIMS}.models"},
    "airflow.models.dagrun": {"DagRun": f"{_SHIMS}.models"},
    "airflow.models.xcom": {"XCom": f"{_SHIMS}.models", "XCOM_RETURN_KEY": f"{_SHIMS}.models"},
    "airflow.models.xcom_arg": {"XComArg": "updraft.sdk.xcom_arg"},
    "airflow.models.mappedoperator": {"MappedOperator": "updraft.sdk.mapping"},
    "airflow.models.taskmixin": {
        "DependencyMixin": "updraft.sdk.dependencies",
        "TaskMixin": "updraft.sdk.dependencies:DependencyMixin",
    },
    "airflow.exceptions": _EXCEPTIONS,
    "airflow.hooks.base": {"BaseHook": "updraft.sdk.base_hook"},
    "airflow.hooks.base_hook": {"BaseHook": "updraft.sdk.base_hook"},
    "airflow.notifications.basenotifier": {"BaseNotifier": "updraft.notifications.base"},
    "airflow.utils.dates": f"{_SHIMS}.dates",
    "airflow.utils.trigger_rule": {"TriggerRule": "updraft.sdk.trigger_rule"},
    "airflow.utils.task_group": {"TaskGroup": "updraft.sdk.taskgroup"},
    "airflow.utils.edgemodifier": {"Label": "updraft.sdk.edges", "EdgeModifier": "updraft.sdk.edges"},
    "airflow.utils.helpers": {**_DEPENDENCIES, "merge_dicts": f"{_SHIMS}.helpers"},
    "airflow.utils.decorators": {"apply_defaults": f"{_SHIMS}.helpers"},
    "airflow.utils.state": {**_STATES, "DagRunState": "updraft.sdk.states"},
    "airflow.utils.types": {"DagRunType": "updraft.sdk.states", "NOTSET": "updraft.sdk.params"},
    "airflow.utils.timezone": f"{_SHIMS}.timezone",
    "airflow.utils.weekday": _WEEKDAY,
    "airflow.utils.context": {"Context": f"{_SHIMS}.context"},
    "airflow.utils.dag_parsing_context": {"get_parsing_context": f"{_SHIMS}.context"},
    "airflow.utils.email": {"send_email": "updraft.providers.smtp"},
    "airflow.utils.log.logging_mixin": {"LoggingMixin": f"{_SHIMS}.helpers"},
    "airflow.utils.log.secrets_masker": {
        "mask_secret": "updraft.sdk.masking",
        "redact": "updraft.sdk.masking",
    },
    "airflow.utils.weight_rule": {"WeightRule": f"{_SHIMS}.models"},
    "airflow.timetables.base": {
        "Timetable": _TIMETABLES,
        "DataInterval": _TIMETABLES,
        "DagRunInfo": _TIMETABLES,
        "TimeRestriction": _TIMETABLES,
    },
    "airflow.timetables.simple": {
        "NullTimetable": _TIMETABLES,
        "OnceTimetable": _TIMETABLES,
        "ContinuousTimetable": _TIMETABLES,
        "AssetTriggeredTimetable": _TIMETABLES,
        "DatasetTriggeredTimetable": f"{_TIMETABLES}:AssetTriggeredTimetable",
    },
    "airflow.timetables.interval": {
        "CronDataIntervalTimetable": _TIMETABLES,
        "DeltaDataIntervalTimetable": _TIMETABLES,
    },
    "airflow.timetables.trigger": {
        "CronTriggerTimetable": _TIMETABLES,
        "DeltaTriggerTimetable": _TIMETABLES,
        "MultipleCronTriggerTimetable": _MORE_TIMETABLES,
    },
    "airflow.timetables.events": {"EventsTimetable": _MORE_TIMETABLES},
    "airflow.timetables.assets": {"AssetOrTimeSchedule": _TIMETABLES},
    "airflow.timetables.datasets": {"DatasetOrTimeSchedule": f"{_TIMETABLES}:AssetOrTimeSchedule"},
    "airflow.datasets": {**_DATASETS},
    "airflow.configuration": {"conf": f"{_SHIMS}.configuration"},
    "airflow.plugins_manager": {"AirflowPlugin": f"{_SHIMS}.helpers"},
    "airflow.sdk.exceptions": _EXCEPTIONS,
    "airflow.datasets.metadata": {"Metadata": "updraft.sdk.assets"},
    "airflow.providers.standard.utils.python_virtualenv": {"is_venv_installed": f"{_SHIMS}.helpers"},
    "airflow.macros": "updraft.sdk.macros",
    **{f"airflow.operators.{name}": names for name, names in {**_OPERATORS, **_OLD_OPERATOR_MODULES}.items()},
    **{f"airflow.sensors.{name}": names for name, names in {**_SENSORS, **_OLD_SENSOR_MODULES}.items()},
    **_PROVIDERS,
}

_NO_DB = (
    "Updraft does not let DAG code query its metadata database: read what a task needs from its "
    "context (ti, dag_run, params) or call Updraft's REST API"
)

UNSUPPORTED: dict[str, str] = {
    "airflow.operators.subdag": (
        "SubDagOperator was removed in Airflow 3 and Updraft does not run sub-DAGs: put the tasks "
        "in a TaskGroup (from airflow.utils.task_group import TaskGroup) instead"
    ),
    "airflow.triggers": (
        "deferrable operators and triggers are not supported: Updraft's sensors wait in "
        "mode='reschedule' without holding a worker, so use the sensor without deferrable=True"
    ),
    "airflow.providers.standard.triggers": (
        "deferrable operators and triggers are not supported: Updraft's sensors wait in "
        "mode='reschedule' without holding a worker, so use the sensor without deferrable=True"
    ),
    "airflow.providers.cncf": "Kubernetes operators are not part of Updraft: run the work with BashOperator",
    "airflow.providers.docker": "Docker operators are not part of Updraft: run `docker run` with BashOperator",
    "airflow.settings": (
        "airflow.settings (the metadata DB session and ORM) is internal to Airflow; Updraft does not "
        "let DAG code reach its database: use the REST API or the context instead"
    ),
    "airflow.listeners": "Airflow listeners are not supported by Updraft",
    "airflow.io": "ObjectStoragePath (airflow.io) is not supported by Updraft: use fsspec directly",
    "airflow.sdk.io": "ObjectStoragePath (airflow.sdk.io) is not supported by Updraft: use fsspec directly",
    "airflow.lineage": "Airflow lineage is not supported by Updraft",
    "airflow.executors": "Airflow executors are internal; Updraft has its own (local and Celery)",
    "airflow.api": "Airflow's internal API modules are not available; call Updraft's REST API with httpx",
    "airflow.providers.standard.operators.hitl": "human-in-the-loop operators are not supported by Updraft",
    "airflow.models.DagBag": _NO_DB,
    "airflow.models.DagModel": _NO_DB,
    "airflow.models.Pool": "pools are managed with `updraft pools` or the REST API, not from DAG code",
    "airflow.models.SkipMixin": (
        "SkipMixin is not available: subclass BaseBranchOperator (airflow.operators.branch) to skip "
        "downstream tasks, or raise AirflowSkipException"
    ),
    "airflow.sdk.literal": "literal() is not supported yet: escape Jinja with {% raw %}...{% endraw %}",
    "airflow.sdk.ObjectStoragePath": "ObjectStoragePath is not supported by Updraft: use fsspec directly",
}

UNSUPPORTED_PROVIDER_ADVICE = (
    "Updraft bundles these Airflow providers: standard, common.sql, common.compat, postgres, sqlite, "
    "http, smtp and slack. For another system, call its Python client from a @task or PythonOperator, "
    "or write a BaseOperator subclass; see docs/airflow-compat.md"
)
