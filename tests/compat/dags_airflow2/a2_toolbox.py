"""Airflow 2 style: Variable, connections, conf, utils helpers, task groups and labels."""

from datetime import datetime

from airflow import DAG
from airflow.configuration import conf
from airflow.exceptions import AirflowException, AirflowNotFoundException
from airflow.hooks.base import BaseHook
from airflow.models import Variable
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.utils import timezone
from airflow.utils.edgemodifier import Label
from airflow.utils.helpers import chain, cross_downstream
from airflow.utils.log.logging_mixin import LoggingMixin
from airflow.utils.state import State
from airflow.utils.task_group import TaskGroup
from airflow.utils.trigger_rule import TriggerRule
from airflow.utils.weekday import WeekDay


class Reporter(LoggingMixin):
    def report(self, text):
        self.log.info("reporter says %s", text)
        return self.log.name


def read_settings():
    settings = Variable.get("compat_settings", deserialize_json=True, default_var={"batch": 1})
    missing = Variable.get("compat_missing", default_var="fallback")
    plain = Variable.get("compat_plain")
    return {"settings": settings, "missing": missing, "plain": plain}


def read_connection():
    conn = BaseHook.get_connection("compat_api")
    try:
        BaseHook.get_connection("compat_nowhere")
        not_found = False
    except AirflowNotFoundException:
        not_found = True
    return {
        "conn_type": conn.conn_type,
        "host": conn.host,
        "port": conn.port,
        "login": conn.login,
        "password": conn.password,
        "schema": conn.schema,
        "extra": conn.extra_dejson,
        "not_found": not_found,
    }


def read_conf():
    return {
        "dags_folder": conf.get("core", "dags_folder"),
        "fallback": conf.get("compat", "no_such_option", fallback="dflt"),
    }


def use_utils():
    now = timezone.utcnow()
    return {
        "aware": timezone.is_localized(now),
        "success": State.SUCCESS == "success",
        "failed_states": sorted(str(s) for s in State.failed_states),
        "rule": TriggerRule.ALL_DONE == "all_done",
        "monday": WeekDay.MONDAY == 1 or str(WeekDay.MONDAY).upper().endswith("MONDAY"),
        "logger": Reporter().report("hello"),
        "is_exception": issubclass(AirflowNotFoundException, AirflowException),
    }


with DAG("a2_toolbox", start_date=datetime(2024, 1, 1), schedule_interval=None, catchup=False) as dag:
    start = EmptyOperator(task_id="start")
    settings = PythonOperator(task_id="read_settings", python_callable=read_settings)
    connection = PythonOperator(task_id="read_connection", python_callable=read_connection)
    config = PythonOperator(task_id="read_conf", python_callable=read_conf)
    utils = PythonOperator(task_id="use_utils", python_callable=use_utils)
    with TaskGroup("fan") as fan:
        left = EmptyOperator(task_id="left")
        right = EmptyOperator(task_id="right")
    sink_a = EmptyOperator(task_id="sink_a")
    sink_b = EmptyOperator(task_id="sink_b")
    chain(start, [settings, connection], config, utils)
    utils >> Label("fan out") >> fan
    cross_downstream([left, right], [sink_a, sink_b])
