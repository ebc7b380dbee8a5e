"""HttpHook against a real loopback server: URLs, auth, headers, bodies, retries, timeouts, TLS."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.providers.http.fake_service import FakeService, Reply, self_signed_context
from updraft.providers.http import HttpError, HttpHook, HttpStatusError
from updraft.sdk.connection import Connection


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeService() as running:
        yield running


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, value: str | dict) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    monkeypatch.setenv(f"UPDRAFT_CONN_{conn_id.upper()}", text)


def test_post_json_with_basic_auth_and_extra_headers(
    service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conn(
        monkeypatch,
        "api",
        {"conn_type": "http", "host": "127.0.0.1", "port": service.port, "login": "ann",
         "password": "s3cr:et", "extra": {"X-Team": "data", "Accept": "application/json"}},
    )  # fmt: skip
    service.script(Reply(201, {"id": 7}))
    response = HttpHook("POST", http_conn_id="api").run(
        "v1/items", json={"name": "x"}, headers={"X-Request": "r1"}
    )
    assert response.status_code == 201 and response.json() == {"id": 7}
    [got] = service.received
    assert (got.method, got.path) == ("POST", "/v1/items")
    assert got.json == {"name": "x"}
    assert got.headers["authorization"] == "Basic " + base64.b64encode(b"ann:s3cr:et").decode()
    assert got.headers["x-team"] == "data" and got.headers["x-request"] == "r1"
    assert got.headers["accept"] == "application/json"


def test_get_sends_data_as_query_and_host_with_scheme_is_used_as_is(
    service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conn(monkeypatch, "api", {"conn_type": "http", "host": f"{service.url}/base/"})
    HttpHook("GET", http_conn_id="api").run("/search", data={"q": "a b", "n": "2"})
    [got] = service.received
    assert got.method == "GET" and got.path == "/base/search?q=a+b&n=2"
    assert got.body == b"" and "authorization" not in got.headers


def test_uri_connection_form_and_form_body(service: FakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "http_default", f"http://u:p%40ss@127.0.0.1:{service.port}")
    HttpHook().run("submit", data={"a": "1", "b": "2"})
    [got] = service.received
    assert got.body == b"a=1&b=2"
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.headers["authorization"] == "Basic " + base64.b64encode(b"u:p@ss").decode()


def test_base_url_from_fields() -> None:
    def url(**fields: object) -> str:
        return HttpHook.base_url_of(Connection("c", **fields))  # type: ignore[arg-type]

    assert url(conn_type="http", host="example.com") == "http://example.com"
    assert url(conn_type="http", host="example.com", schema="https", port=8443) == "https://example.com:8443"
    assert url(conn_type="https", host="example.com") == "https://example.com"
    assert url(conn_type="http", host="https://api.example.com/v2") == "https://api.example.com/v2"


def test_non_2xx_names_connection_status_and_body_but_not_password(
    service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conn(monkeypatch, "api", f"http://ann:hunter2@127.0.0.1:{service.port}")
    service.script(Reply(404, "no such item: 42 " + "x" * 1000))
    with pytest.raises(HttpStatusError) as info:
        HttpHook("GET", http_conn_id="api").run("items/42")
    message = str(info.value)
    assert "'api'" in message and "404" in message and "no such item: 42" in message
    assert "hunter2" not in message and len(message) < 600
    assert info.value.status_code == 404
    assert len(service.received) == 1  # a 4xx is not retried


def test_check_response_false_returns_the_error_response(
    service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conn(monkeypatch, "api", f"http://127.0.0.1:{service.port}")
    service.script(Reply(400, "bad"))
    response = HttpHook("GET", http_conn_id="api").run("x", extra_options={"check_response": False})
    assert response.status_code == 400 and response.text == "bad"


def test_retries_5xx_with_backoff_then_succeeds(
    service: FakeService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    set_conn(monkeypatch, "api", f"http://127.0.0.1:{service.port}")
    service.script(Reply(503, "busy"), Reply(502, "busy"), Reply(200, "done"))
    with caplog.at_level(logging.WARNING):
        response = HttpHook("POST", http_conn_id="api", retry_limit=3, retry_delay=0.01).run(
            "job", json={"n": 1}
        )
    assert response.text == "done"
    assert [r.json for r in service.received] == [{"n": 1}] * 3
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and "status 503" in retries[0] and "0.01 s" in retries[0]
    assert "0.02 s" in retries[1]  # exponential backoff


def test_gives_up_after_retry_limit(service: FakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "api", f"http://127.0.0.1:{service.port}")
    service.script(Reply(500, "broken"))
    with pytest.raises(HttpStatusError, match="500"):
        HttpHook("GET", http_conn_id="api", retry_limit=2, retry_delay=0.001).run("x")
    assert len(service.received) == 3


def test_connection_refused_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeService() as gone:
        port = gone.port
    set_conn(monkeypatch, "api", f"http://127.0.0.1:{port}")
    with pytest.raises(HttpError, match=r"'api'.*cannot connect.*after 3 attempt"):
        HttpHook("GET", http_conn_id="api", retry_limit=2, retry_delay=0.001).run("x")


def test_timeout_error_message(service: FakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "api", f"http://127.0.0.1:{service.port}")
    service.script(Reply(200, "late", hold=True))
    with pytest.raises(HttpError) as info:
        HttpHook("GET", http_conn_id="api").run("slow", extra_options={"timeout": 0.2})
    assert "'api'" in str(info.value) and "timed out after 0.2 s" in str(info.value)
    assert "/slow" in str(info.value)
    assert len(service.received) == 1  # a read timeout is not retried


def test_unknown_extra_option_is_an_error(service: FakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "api", f"http://127.0.0.1:{service.port}")
    with pytest.raises(HttpError, match="unknown extra_options timeuot"):
        HttpHook("GET", http_conn_id="api").run("x", extra_options={"timeuot": 1})


def test_missing_connection_names_it() -> None:
    with pytest.raises(KeyError, match="'nowhere_http'"):
        HttpHook("GET", http_conn_id="nowhere_http").run("x")


def test_tls_verification_is_on_by_default_and_can_be_relaxed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    context, cert_pem = self_signed_context()
    with FakeService(context) as secure:
        set_conn(monkeypatch, "secure", {"conn_type": "http", "host": secure.url})
        with pytest.raises(HttpError, match=r"'secure'.*(?i:certificate)"):
            HttpHook("GET", http_conn_id="secure", retry_limit=0).run("x")
        assert secure.received == []

        response = HttpHook("GET", http_conn_id="secure").run("x", extra_options={"verify": False})
        assert response.text == "ok"

        bundle = tmp_path / "ca.pem"
        bundle.write_bytes(cert_pem)
        response = HttpHook("GET", http_conn_id="secure").run("y", extra_options={"verify": str(bundle)})
        assert response.text == "ok"
        assert [r.path for r in secure.received] == ["/x", "/y"]
