"""Airflow 2 style sensors: each import path of airflow.sensors, one soft-failing on timeout."""

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowSensorTimeout
from airflow.operators.empty import EmptyOperator
from airflow.sensors.base import BaseSensorOperator, PokeReturnValue
from airflow.sensors.bash import BashSensor
from airflow.sensors.date_time import DateTimeSensor
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.sensors.filesystem import FileSensor
from airflow.sensors.python import PythonSensor
from airflow.sensors.time_delta import TimeDeltaSensor
from airflow.sensors.weekday import DayOfWeekSensor
from airflow.utils.weekday import WeekDay

SCRATCH = os.environ.get("COMPAT_SCRATCH", "/tmp")
FAST = {"poke_interval": 0.1, "timeout": 30}


class CountingSensor(BaseSensorOperator):
    """Done on the third poke, handing a value to XCom."""

    def poke(self, context):
        path = os.path.join(SCRATCH, "a2_sensors_pokes.txt")
        with open(path, "a") as handle:
            handle.write("poke\n")
        with open(path) as handle:
            pokes = len(handle.readlines())
        return PokeReturnValue(is_done=pokes >= 3, xcom_value={"pokes": pokes})


class GiveUpSensor(BaseSensorOperator):
    def poke(self, context):
        raise AirflowSensorTimeout("the upstream system said it will never be ready")


every_day = {WeekDay.MONDAY, WeekDay.TUESDAY, WeekDay.WEDNESDAY, WeekDay.THURSDAY}
every_day |= {WeekDay.FRIDAY, WeekDay.SATURDAY, WeekDay.SUNDAY}

with DAG("a2_sensors", start_date=datetime(2024, 1, 1), schedule_interval="@daily", catchup=False) as dag:
    python_ok = PythonSensor(task_id="python_ok", python_callable=lambda: True, **FAST)
    bash_ok = BashSensor(task_id="bash_ok", bash_command="test -d /", **FAST)
    file_ok = FileSensor(task_id="file_ok", filepath=__file__, **FAST)
    delta_ok = TimeDeltaSensor(task_id="delta_ok", delta=timedelta(seconds=0), **FAST)
    datetime_ok = DateTimeSensor(task_id="datetime_ok", target_time="{{ ds }}T00:00:00+00:00", **FAST)
    weekday_ok = DayOfWeekSensor(task_id="weekday_ok", week_day=every_day, use_task_logical_date=True, **FAST)
    counting = CountingSensor(task_id="counting", **FAST)
    never_true = PythonSensor(
        task_id="never_true", python_callable=lambda: False, poke_interval=0.1, timeout=1, soft_fail=True
    )
    after_never = EmptyOperator(task_id="after_never")
    give_up = GiveUpSensor(task_id="give_up", soft_fail=True, **FAST)
    other_dag = ExternalTaskSensor(
        task_id="other_dag",
        external_dag_id="a2_toolbox",
        external_task_id="start",
        poke_interval=0.1,
        timeout=1,
        soft_fail=True,
    )
    all_ok = EmptyOperator(task_id="all_ok")
    [python_ok, bash_ok, file_ok, delta_ok, datetime_ok, weekday_ok, counting] >> all_ok
    never_true >> after_never
