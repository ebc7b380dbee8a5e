"""HttpSensor against a real loopback server: 404 means "not yet", other errors fail, response_check decides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.operators.helpers import run_task
from tests.providers.http.fake_service import FakeService, Reply
from updraft.exceptions import UpdraftSensorTimeout, UpdraftSkipException
from updraft.operators.sensors.http import HttpSensor
from updraft.providers.http import HttpStatusError
from updraft.sdk.dag import DAG


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeService]:
    with FakeService() as running:
        monkeypatch.setenv(
            "UPDRAFT_CONN_SVC",
            json.dumps({"conn_type": "http", "host": running.url, "extra": {"X-Team": "data"}}),
        )
        yield running


def sensor(**kwargs: Any) -> HttpSensor:
    with DAG("sensor_dag", schedule=None):
        return HttpSensor(
            **{"task_id": "wait", "http_conn_id": "svc", "poke_interval": 0.01, "timeout": 5, **kwargs}
        )


def test_404_means_not_yet_then_success_ends_the_wait(service: FakeService) -> None:
    service.script(Reply(404, "no file yet"), Reply(404, "no file yet"), Reply(200, {"ready": True}))
    run_task(
        sensor(endpoint="exports/{{ ds }}", request_params={"part": "{{ params.part }}"}, params={"part": 3})
    )
    assert [r.path for r in service.received] == ["/exports/2024-03-05?part=3"] * 3
    assert all(r.method == "GET" and r.headers["x-team"] == "data" for r in service.received)


def test_another_error_status_fails_at_once_naming_it(service: FakeService) -> None:
    service.script(Reply(403, "forbidden: bad token"))
    with pytest.raises(HttpStatusError, match=r"answered 403.*bad token") as info:
        run_task(sensor(endpoint="exports"))
    assert info.value.status_code == 403
    assert len(service.received) == 1


def test_the_allowlist_replaces_404(service: FakeService) -> None:
    service.script(Reply(409, "busy"), Reply(204))
    run_task(sensor(endpoint="jobs/1", response_error_codes_allowlist=["409"]))
    assert len(service.received) == 2

    service.script(Reply(404, "gone"))
    with pytest.raises(HttpStatusError, match="404"):
        run_task(sensor(endpoint="jobs/2", response_error_codes_allowlist=[409]))


def test_response_check_decides_and_may_take_context(service: FakeService) -> None:
    service.script(Reply(200, {"state": "running"}), Reply(200, {"state": "done", "day": "2024-03-05"}))
    seen: list[str] = []

    def done(response: Any, ds: str) -> bool:
        seen.append(response.json()["state"])
        return response.json() == {"state": "done", "day": ds}

    run_task(sensor(endpoint="status", response_check=done))
    assert seen == ["running", "done"]


def test_extra_options_reach_the_request(service: FakeService) -> None:
    service.script(Reply(200, "ok", hold=True))
    with pytest.raises(Exception, match="timed out"):
        run_task(sensor(endpoint="slow", extra_options={"timeout": 0.2}))
    service.release.set()


def test_check_response_false_hands_error_answers_to_response_check(service: FakeService) -> None:
    service.script(Reply(500, "maintenance"), Reply(200, "up"))
    checked: list[int] = []

    def up(response: Any) -> bool:
        checked.append(response.status_code)
        return response.status_code == 200

    run_task(sensor(endpoint="health", extra_options={"check_response": False}, response_check=up))
    assert checked == [500, 200]


def test_an_endpoint_that_never_appears_times_out_or_skips_with_soft_fail(service: FakeService) -> None:
    service.script(Reply(404, "not yet"))
    with pytest.raises(UpdraftSensorTimeout):
        run_task(sensor(endpoint="never", timeout=0.1))
    with pytest.raises(UpdraftSkipException):
        run_task(sensor(endpoint="never", timeout=0.1, soft_fail=True))


def test_a_non_callable_check_is_rejected() -> None:
    with pytest.raises(TypeError, match="response_check must be callable"):
        sensor(endpoint="x", response_check="status == 200")
