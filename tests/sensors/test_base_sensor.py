"""BaseSensorOperator: argument checks, Airflow's backoff rule, and poke mode in real runs."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from tests.runs.conftest import Runs
from updraft.operators import BaseSensorOperator, PokeReturnValue, PythonSensor
from updraft.operators.sensors.base import DEFAULT_SENSOR_TIMEOUT, backoff_poke_interval
from updraft.sdk.runtime_services import RuntimeServicesUnavailable, get_services, install_services

# -- construction ------------------------------------------------------------------------------


def _sensor(**kwargs: object) -> PythonSensor:
    return PythonSensor(task_id="wait", python_callable=lambda: True, **kwargs)


def test_defaults_follow_airflow() -> None:
    sensor = _sensor()
    assert (sensor.poke_interval, sensor.timeout, sensor.mode) == (60.0, DEFAULT_SENSOR_TIMEOUT, "poke")
    assert timedelta(days=7).total_seconds() == DEFAULT_SENSOR_TIMEOUT
    assert not sensor.soft_fail and not sensor.reschedule and sensor.max_wait is None
    timed = _sensor(poke_interval=timedelta(minutes=2), timeout=timedelta(hours=1), max_wait=30)
    assert (timed.poke_interval, timed.timeout, timed.max_wait) == (120.0, 3600.0, 30.0)
    assert _sensor(mode="reschedule").reschedule


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"poke_interval": -1}, ValueError, "poke_interval must not be negative"),
        ({"poke_interval": "soon"}, TypeError, "poke_interval must be a timedelta"),
        ({"timeout": timedelta(seconds=-5)}, ValueError, "timeout must not be negative"),
        ({"max_wait": -2}, ValueError, "max_wait"),
        ({"mode": "deferred"}, ValueError, "mode must be one of poke, reschedule"),
        ({"soft_fail": True, "never_fail": True}, ValueError, "soft_fail and never_fail"),
    ],
)
def test_bad_arguments_name_the_task(kwargs: dict[str, object], error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text) as info:
        _sensor(**kwargs)
    assert "'wait'" in str(info.value)


def test_poke_return_value_is_truthy_when_done() -> None:
    assert PokeReturnValue(True, 1) and not PokeReturnValue(False, 1)
    assert PokeReturnValue(True).xcom_value is None


def test_base_sensor_requires_poke() -> None:
    with pytest.raises(NotImplementedError, match="must implement poke"):
        BaseSensorOperator(task_id="bare").poke({})


def test_without_a_runtime_services_are_unavailable() -> None:
    previous = install_services(None)
    try:
        with pytest.raises(RuntimeServicesUnavailable, match="updraft dags test"):
            get_services()
    finally:
        install_services(previous)


# -- exponential backoff (pure) ----------------------------------------------------------------


def _airflow_step(poke_interval: float, poke_count: int, key: str) -> float:
    """Airflow's formula, written out independently: min_backoff plus a sha1 jitter below it."""
    min_backoff = max(int(poke_interval * (2 ** (poke_count - 2))), 1)
    digest = int(hashlib.sha1(f"{key}#{poke_count}".encode()).hexdigest(), 16)
    return float(min_backoff + digest % min_backoff)


@pytest.mark.parametrize("poke_interval", [0.05, 1.0, 5.0, 60.0])
def test_poke_mode_backoff_grows_like_airflow(poke_interval: float) -> None:
    key = "dag#wait#12.5"
    previous = 0.0
    for count in range(1, 9):
        interval = backoff_poke_interval(
            poke_interval=poke_interval, timeout=1e9, poke_count=count, elapsed=0, key=key
        )
        min_backoff = max(int(poke_interval * 2 ** (count - 2)), 1)
        assert min_backoff <= interval < 2 * min_backoff
        assert interval == _airflow_step(poke_interval, count, key)
        assert interval == backoff_poke_interval(  # deterministic for the same wait
            poke_interval=poke_interval, timeout=1e9, poke_count=count, elapsed=0, key=key
        )
        if min_backoff > 1 and count > 2:
            assert interval >= previous / 2  # it grows (up to the jitter)
        previous = interval


def test_backoff_jitter_depends_on_the_wait() -> None:
    intervals = {
        backoff_poke_interval(poke_interval=100, timeout=1e9, poke_count=4, elapsed=0, key=f"d#t#{i}")
        for i in range(20)
    }
    assert len(intervals) > 1
    assert all(400 <= value < 800 for value in intervals)


def test_backoff_is_capped_by_max_wait_and_the_time_left() -> None:
    common = {"poke_interval": 60.0, "poke_count": 6, "key": "d#t#0"}
    assert backoff_poke_interval(timeout=1e9, elapsed=0, max_wait=90, **common) == 90  # type: ignore[arg-type]
    assert backoff_poke_interval(timeout=100, elapsed=70.9, **common) == 30  # type: ignore[arg-type]
    assert backoff_poke_interval(timeout=100, elapsed=100, **common) == 0  # type: ignore[arg-type]


def test_reschedule_mode_estimates_the_poke_count_from_elapsed_time() -> None:
    key = "d#t#2024-01-01T00:00:00+00:00"
    steps = [_airflow_step(10, n, key) for n in range(1, 8)]
    # Just after the first two intervals have passed, the third poke's interval comes next.
    elapsed = steps[0] + steps[1] + 0.5
    got = backoff_poke_interval(
        poke_interval=10, timeout=1e9, poke_count=1, elapsed=elapsed, key=key, reschedule=True
    )
    assert got == steps[2]


# -- poke mode in runs -------------------------------------------------------------------------

PRELUDE = """
from updraft.operators import PythonSensor
from updraft.operators.sensors import PokeReturnValue


def pokes(name):
    touch(name)
    with open(f"{TMP}/{name}") as f:
        return len(f.read().splitlines())
"""


def test_a_poke_mode_sensor_succeeds_after_several_pokes(runs: Runs) -> None:
    result = runs.run(
        "poke",
        """
    with DAG("poke", start_date=START, schedule=None) as dag:
        def ready(ti, **_):
            touch("tries", str(ti.try_number))
            n = pokes("pokes")
            return PokeReturnValue(n >= 3, xcom_value={"pokes": n}) if n >= 3 else False

        wait = PythonSensor(task_id="wait", python_callable=ready, poke_interval=0.05, timeout=30)
        after = PythonOperator(task_id="after", python_callable=ok)
        wait >> after
    """,
        prelude=PRELUDE,
    )
    assert result.state == "success"
    assert runs.states("poke") == {"wait": "success", "after": "success"}
    assert runs.scratch_text("tries") == "1\n1\n1\n"  # one attempt, three pokes
    ti = runs.tis("poke")["wait"]
    assert ti.try_number == 1
    assert ti.end_date - ti.start_date >= timedelta(seconds=0.1)
    assert runs.xcoms("poke")[("wait", -1, "return_value")] == {"pokes": 3}


def test_a_timeout_shorter_than_the_poke_interval_is_honoured(runs: Runs) -> None:
    # poke_interval=60 with timeout=0.3: one poke now, one as the timeout expires, then soft-fail.
    # Without the cap the sensor would sleep the whole minute before its second poke.
    result = runs.run(
        "short_timeout",
        """
    with DAG("short_timeout", start_date=START, schedule=None) as dag:
        PythonSensor(task_id="wait", python_callable=lambda: pokes("pokes") > 1000,
                     poke_interval=60, timeout=0.3, soft_fail=True)
    """,
        prelude=PRELUDE,
    )
    assert result.state == "success"
    assert runs.states("short_timeout") == {"wait": "skipped"}
    assert len(runs.scratch_text("pokes").splitlines()) == 2
    ti = runs.tis("short_timeout")["wait"]
    assert ti.end_date - ti.start_date < timedelta(seconds=30)


def test_a_timed_out_sensor_fails_without_retry(runs: Runs) -> None:
    result = runs.run(
        "slow",
        """
    with DAG("slow", start_date=START, schedule=None) as dag:
        PythonSensor(task_id="wait", python_callable=lambda: pokes("pokes") > 1000,
                     poke_interval=0.05, timeout=0.2, retries=3, retry_delay=0)
    """,
        prelude=PRELUDE,
    )
    assert result.state == "failed"
    ti = runs.tis("slow")["wait"]
    assert (ti.state, ti.try_number) == ("failed", 1)
    (history,) = runs.history("slow", "wait")
    assert history["error"].startswith("UpdraftSensorTimeout: sensor 'wait' timed out")
    assert len(runs.scratch_text("pokes").splitlines()) >= 3


def test_soft_fail_skips_on_timeout_and_never_fail_skips_on_errors(runs: Runs) -> None:
    runs.run(
        "soft",
        """
    with DAG("soft", start_date=START, schedule=None) as dag:
        def broken():
            raise RuntimeError("cannot look")

        soft = PythonSensor(task_id="soft", python_callable=lambda: False, poke_interval=0.05,
                            timeout=0.1, soft_fail=True)
        never = PythonSensor(task_id="never", python_callable=broken, never_fail=True)
        after = PythonOperator(task_id="after", python_callable=ok)
        soft >> after
    """,
        prelude=PRELUDE,
    )
    assert runs.states("soft") == {"soft": "skipped", "never": "skipped", "after": "skipped"}


def test_silent_fail_keeps_poking_and_other_errors_fail_the_try(runs: Runs) -> None:
    runs.run(
        "errors",
        """
    with DAG("errors", start_date=START, schedule=None) as dag:
        def flaky():
            if pokes("silent") == 1:
                raise RuntimeError("transient")
            return True

        def broken(ti, **_):
            touch("loud", str(ti.try_number))
            raise RuntimeError("broken poke")

        PythonSensor(task_id="silent", python_callable=flaky, poke_interval=0.05, silent_fail=True)
        PythonSensor(task_id="loud", python_callable=broken, retries=1, retry_delay=0)
    """,
        prelude=PRELUDE,
    )
    assert runs.states("errors") == {"silent": "success", "loud": "failed"}
    assert runs.scratch_text("loud") == "1\n2\n"  # an ordinary error is retried
    assert runs.history("errors", "loud")[-1]["error"] == "RuntimeError: broken poke"


def test_task_sensor_decorator(runs: Runs) -> None:
    runs.run(
        "decorated",
        """
    with DAG("decorated", start_date=START, schedule=None) as dag:
        @task.sensor(poke_interval=0.05, timeout=30, mode="poke")
        def wait_for(threshold, ti=None):
            n = pokes("pokes")
            return PokeReturnValue(is_done=n >= threshold, xcom_value=n * 10)

        @task
        def use(value):
            touch("used", str(value))

        use(wait_for(2))
    """,
        prelude=PRELUDE,
    )
    assert runs.states("decorated") == {"wait_for": "success", "use": "success"}
    assert runs.scratch_text("used") == "20\n"
    assert runs.tis("decorated")["wait_for"].try_number == 1
