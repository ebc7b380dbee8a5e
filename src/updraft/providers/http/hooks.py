"""``HttpHook``: one HTTP request to the service an ``http`` connection describes, on httpx.

The connection gives the base URL (``schema``/``conn_type`` http or https, ``host``, ``port``; a host
that already has a scheme is used as it is), basic auth (``login``/``password``) and default
headers (``extra``; the keys in :data:`REQUEST_OPTIONS` there are request options, not headers).

``run()`` retries connection failures and 5xx answers with exponential backoff, raises
:class:`HttpStatusError` on a 4xx/5xx answer unless ``check_response=False``, and checks TLS
certificates unless ``verify=False``. Errors name the connection, never its password.

::

    UpdraftException
    +-- HttpError                  the request could not be made or got no answer in time
        +-- HttpStatusError        the service answered with a 4xx/5xx status
"""

from __future__ import annotations

import json as jsonlib
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from updraft.sdk.base_hook import BaseHook
from updraft.sdk.connection import Connection
from updraft.sdk.exceptions import UpdraftException

__all__ = ["HttpError", "HttpHook", "HttpStatusError", "REQUEST_OPTIONS"]

#: Keys of ``extra_options`` (and of the connection's extra) that configure the request.
REQUEST_OPTIONS = frozenset(
    {"check_response", "timeout", "verify", "allow_redirects", "proxy", "proxies", "cert", "stream"}
)
#: Seconds a request may take when neither ``extra_options`` nor the connection set ``timeout``.
DEFAULT_TIMEOUT = 60.0
#: Characters of the response body an error message quotes.
BODY_EXCERPT_CHARS = 300


class HttpError(UpdraftException):
    """An HTTP request failed: no connection, a TLS error, a timeout or (subclass) a bad status."""


class HttpStatusError(HttpError):
    """The service answered with a 4xx or 5xx status; ``response`` is the httpx response."""

    def __init__(self, message: str, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code


def body_excerpt(response: httpx.Response, limit: int = BODY_EXCERPT_CHARS) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return "<unreadable body>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _is_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _keep_alive_options(idle: int, interval: int, count: int) -> list[tuple[int, int, int]]:
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", interval), ("TCP_KEEPCNT", count)):
        if hasattr(socket, name):
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    return options


class HttpHook(BaseHook):
    """Talk to an HTTP service; ``run(endpoint, ...)`` makes one request (with retries).

    ``auth_type`` is called as ``auth_type(login, password)`` when the connection has a login
    (default: basic auth), or is an ``httpx.Auth`` used as it is. ``retry_limit`` is how many times
    a connection failure or a 5xx answer is retried, waiting ``retry_delay`` seconds, then twice
    as long each time, at most ``retry_max_delay``.
    """

    conn_name_attr = "http_conn_id"
    default_conn_name = "http_default"
    conn_type = "http"
    hook_name = "HTTP"

    def __init__(
        self,
        method: str = "POST",
        http_conn_id: str | None = default_conn_name,
        auth_type: Any = None,
        tcp_keep_alive: bool = True,
        tcp_keep_alive_idle: int = 120,
        tcp_keep_alive_count: int = 20,
        tcp_keep_alive_interval: int = 30,
        retry_limit: int = 3,
        retry_delay: float = 1.0,
        retry_max_delay: float = 60.0,
        base_url: str | None = None,
    ) -> None:
        super().__init__()
        if retry_limit < 0:
            raise ValueError(f"HttpHook: retry_limit must be >= 0, got {retry_limit!r}")
        if retry_delay < 0:
            raise ValueError(f"HttpHook: retry_delay must be >= 0, got {retry_delay!r}")
        self.method = method.upper()
        self.http_conn_id = http_conn_id
        self.auth_type = auth_type
        self.tcp_keep_alive = tcp_keep_alive
        self.keep_alive_idle = tcp_keep_alive_idle
        self.keep_alive_count = tcp_keep_alive_count
        self.keep_alive_interval = tcp_keep_alive_interval
        self.retry_limit = retry_limit
        self.retry_delay = retry_delay
        self.retry_max_delay = retry_max_delay
        self.base_url = base_url or ""
        self._connection: Connection | None = None
        self._conn_options: dict[str, Any] = {}
        self._conn_headers: dict[str, str] = {}

    # -- the connection ------------------------------------------------------------------------

    @property
    def where(self) -> str:
        return f"connection {self.http_conn_id!r}" if self.http_conn_id else "HttpHook"

    def _load_connection(self) -> Connection | None:
        if not self.http_conn_id:
            return None
        if self._connection is None:
            conn = self.get_connection(self.http_conn_id)
            self._connection = conn
            if not self.base_url:
                self.base_url = self.base_url_of(conn)
            if conn.extra and not conn.extra_dejson and conn.extra.strip() not in ("", "{}"):
                raise HttpError(f"{self.where}: extra must be a JSON object of headers")
            for key, value in conn.extra_dejson.items():
                if key in REQUEST_OPTIONS:
                    self._conn_options[key] = value
                else:
                    self._conn_headers[key] = value if isinstance(value, str) else jsonlib.dumps(value)
        return self._connection

    @staticmethod
    def base_url_of(conn: Connection) -> str:
        """``scheme://host[:port]``: the host as it is when it has a scheme."""
        host = (conn.host or "").strip()
        if not host:
            return ""
        if "://" in host:
            return host
        scheme = "http"
        for candidate in (conn.schema, conn.conn_type):
            if candidate and candidate.lower() in ("http", "https"):
                scheme = candidate.lower()
                break
        url = f"{scheme}://{host}"
        if conn.port:
            url += f":{conn.port}"
        return url

    def url_for(self, endpoint: str | None) -> str:
        """The base URL joined with ``endpoint`` by exactly one slash; a full URL stays as it is."""
        self._load_connection()
        endpoint = endpoint or ""
        if "://" in endpoint:
            return endpoint
        if not self.base_url:
            raise HttpError(f"{self.where}: no host is set, so endpoint {endpoint!r} has no base URL")
        if self.base_url.endswith("/") and endpoint.startswith("/"):
            return self.base_url + endpoint[1:]
        if endpoint and not self.base_url.endswith("/") and not endpoint.startswith("/"):
            return f"{self.base_url}/{endpoint}"
        return self.base_url + endpoint

    def _auth(self) -> httpx.Auth | None:
        conn = self._connection
        if isinstance(self.auth_type, httpx.Auth):
            return self.auth_type
        if conn is None or not conn.login:
            return None
        factory: Callable[[str, str], Any] = self.auth_type or httpx.BasicAuth
        return factory(conn.login, conn.password or "")

    # -- the client ----------------------------------------------------------------------------

    def _verify(self, value: Any) -> ssl.SSLContext | bool:
        if value is None or value is True:
            return True
        if value is False or (isinstance(value, str) and value.lower() in ("false", "0", "no")):
            return False
        if isinstance(value, ssl.SSLContext):
            return value
        if isinstance(value, str):
            try:
                return ssl.create_default_context(cafile=value)
            except (OSError, ssl.SSLError) as exc:
                raise HttpError(f"{self.where}: cannot read the CA bundle {value!r} ({exc})") from None
        raise HttpError(f"{self.where}: verify must be true, false or a CA bundle path, got {value!r}")

    def _timeout(self, value: Any) -> httpx.Timeout:
        if isinstance(value, httpx.Timeout):
            return value
        if value is None:
            return httpx.Timeout(DEFAULT_TIMEOUT)
        if isinstance(value, (tuple, list)) and len(value) == 2:  # requests' (connect, read)
            return httpx.Timeout(float(value[1]), connect=float(value[0]))
        try:
            return httpx.Timeout(float(value))
        except (TypeError, ValueError):
            raise HttpError(f"{self.where}: timeout must be a number of seconds, got {value!r}") from None

    def get_conn(
        self, headers: Mapping[str, str] | None = None, extra_options: Mapping[str, Any] | None = None
    ) -> httpx.Client:
        """An httpx client with the connection's auth, default headers and request options."""
        self._load_connection()
        options = {**self._conn_options, **(extra_options or {})}
        unknown = sorted(set(extra_options or {}) - REQUEST_OPTIONS)
        if unknown:
            raise HttpError(
                f"{self.where}: unknown extra_options {', '.join(unknown)} "
                f"(known: {', '.join(sorted(REQUEST_OPTIONS))})"
            )
        verify = self._verify(options.get("verify"))
        transport_args: dict[str, Any] = {"verify": verify}
        if options.get("cert"):
            transport_args["cert"] = options["cert"]
        if self.tcp_keep_alive:
            transport_args["socket_options"] = _keep_alive_options(
                self.keep_alive_idle, self.keep_alive_interval, self.keep_alive_count
            )
        proxy = options.get("proxy")
        if proxy is None and isinstance(options.get("proxies"), Mapping):
            proxies = options["proxies"]
            proxy = proxies.get("https") or proxies.get("http")
        if proxy:
            transport_args["proxy"] = proxy
        return httpx.Client(
            transport=httpx.HTTPTransport(**transport_args),
            headers={**self._conn_headers, **(headers or {})},
            auth=self._auth(),
            timeout=self._timeout(options.get("timeout")),
            follow_redirects=bool(options.get("allow_redirects", True)),
            trust_env=True,
        )

    # -- requests ------------------------------------------------------------------------------

    def run(
        self,
        endpoint: str | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        extra_options: Mapping[str, Any] | None = None,
        json: Any = None,
        **request_kwargs: Any,
    ) -> httpx.Response:
        """Send the request and return the response; ``data`` is the query of a GET/HEAD/DELETE."""
        extra_options = dict(extra_options or {})
        url = self.url_for(endpoint)
        kwargs: dict[str, Any] = dict(request_kwargs)
        if self.method in ("GET", "HEAD", "DELETE") and data is not None:
            kwargs["params"] = data
        elif isinstance(data, (str, bytes)):
            kwargs["content"] = data
        elif data is not None:
            kwargs["data"] = data
        if json is not None:
            kwargs["json"] = json
        check = extra_options.get("check_response", self._conn_options.get("check_response", True))
        with self.get_conn(headers, extra_options) as client:
            response = self._send_with_retries(client, url, kwargs)
        if check:
            self.check_response(response)
        return response

    def _send_with_retries(self, client: httpx.Client, url: str, kwargs: dict[str, Any]) -> httpx.Response:
        where = f"{self.method} {url}"
        attempt = 0
        while True:
            attempt += 1
            reason: str
            try:
                response = client.request(self.method, url, **kwargs)
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout) and attempt <= self.retry_limit:
                    reason = "connection timed out"
                else:
                    seconds = client.timeout.read or client.timeout.connect
                    raise HttpError(
                        f"{self.where}: {where} timed out after {seconds} s "
                        f"({type(exc).__name__}); raise extra_options timeout if the service is slow"
                    ) from exc
            except httpx.ConnectError as exc:
                if _is_tls_error(exc):
                    raise HttpError(
                        f"{self.where}: TLS error on {where}: {exc}; to trust a private CA set "
                        "extra_options verify to its bundle path (verify=False turns the check off)"
                    ) from exc
                if attempt > self.retry_limit:
                    raise HttpError(
                        f"{self.where}: cannot connect for {where} after {attempt} attempt(s): {exc}"
                    ) from exc
                reason = f"cannot connect ({exc})"
            except httpx.HTTPError as exc:
                raise HttpError(f"{self.where}: {where} failed: {type(exc).__name__}: {exc}") from exc
            else:
                if response.status_code < 500 or attempt > self.retry_limit:
                    return response
                reason = f"status {response.status_code}"
            delay = min(self.retry_delay * 2 ** (attempt - 1), self.retry_max_delay)
            self.log.warning(
                "%s: %s: %s; retry %d of %d in %.2f s",
                self.where,
                where,
                reason,
                attempt,
                self.retry_limit,
                delay,
            )
            time.sleep(delay)

    def check_response(self, response: httpx.Response) -> None:
        """Raise :class:`HttpStatusError` for a 4xx/5xx answer, quoting the start of its body."""
        if response.status_code < 400:
            return
        request = response.request
        raise HttpStatusError(
            f"{self.where}: {request.method} {request.url} answered {response.status_code} "
            f"{response.reason_phrase}: {body_excerpt(response)}",
            response,
        )

    def test_connection(self) -> tuple[bool, str]:
        try:
            response = HttpHook("GET", self.http_conn_id, self.auth_type, retry_limit=0).run()
        except (HttpError, KeyError, ValueError) as exc:
            return False, str(exc)
        return True, f"Connection successfully tested (status {response.status_code})"
