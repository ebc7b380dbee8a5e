"""``HttpSensor``: wait until an HTTP endpoint answers, and optionally until its answer looks right.

Each poke sends one request with :class:`~updraft.providers.http.hooks.HttpHook`. The wait ends when
the service answers with a status below 400 and ``response_check(response)`` (when given) returns
something true. As in Airflow, an answer whose status is in ``response_error_codes_allowlist``
(default: 404) means "not there yet" and the sensor pokes again; any other 4xx/5xx answer, or a
request that cannot be made, fails the task (``soft_fail``, ``silent_fail`` and ``never_fail`` of
the sensor base apply).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from updraft.operators.sensors.base import BaseSensorOperator
from updraft.providers.http.hooks import HttpHook
from updraft.providers.http.operators import call_with_context

__all__ = ["HttpSensor"]

#: Statuses that mean "not yet" unless the DAG says otherwise.
DEFAULT_NOT_YET_STATUSES = ("404",)


class HttpSensor(BaseSensorOperator):
    """Poke ``method`` ``endpoint`` on the service of ``http_conn_id`` until it answers as expected.

    ``request_params`` is the query of a GET (the body otherwise) and ``headers`` add to the
    connection's. ``response_check(response, ...)`` may also ask for context variables by name
    (``ti``, ``ds``...) or take ``**context``; a false result means "poke again". ``extra_options``
    are request options (``timeout``, ``verify``...) as in :meth:`HttpHook.run`.
    ``response_error_codes_allowlist`` lists the statuses (as strings) that mean "not yet".
    """

    template_fields: ClassVar[Sequence[str]] = ("endpoint", "request_params", "headers")
    template_fields_renderers = {"headers": "json", "request_params": "json"}
    ui_color = "#f4a460"

    def __init__(
        self,
        *,
        endpoint: str,
        http_conn_id: str = "http_default",
        method: str = "GET",
        request_params: Any = None,
        request_kwargs: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        response_error_codes_allowlist: Iterable[str | int] | None = None,
        response_check: Callable[..., Any] | None = None,
        extra_options: dict[str, Any] | None = None,
        tcp_keep_alive: bool = True,
        tcp_keep_alive_idle: int = 120,
        tcp_keep_alive_count: int = 20,
        tcp_keep_alive_interval: int = 30,
        auth_type: Any = None,
        request_retry_limit: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if response_check is not None and not callable(response_check):
            raise TypeError(
                f"HttpSensor {self.task_id!r}: response_check must be callable, got {response_check!r}"
            )
        self.endpoint = endpoint
        self.http_conn_id = http_conn_id
        self.method = method
        self.request_params = request_params or {}
        self.request_kwargs = dict(request_kwargs or {})
        self.headers = headers or {}
        allowlist = (
            DEFAULT_NOT_YET_STATUSES
            if response_error_codes_allowlist is None
            else response_error_codes_allowlist
        )
        self.response_error_codes_allowlist = [str(code) for code in allowlist]
        self.response_check = response_check
        self.extra_options = extra_options or {}
        self.tcp_keep_alive = tcp_keep_alive
        self.tcp_keep_alive_idle = tcp_keep_alive_idle
        self.tcp_keep_alive_count = tcp_keep_alive_count
        self.tcp_keep_alive_interval = tcp_keep_alive_interval
        self.auth_type = auth_type
        self.request_retry_limit = request_retry_limit

    @property
    def hook(self) -> HttpHook:
        return HttpHook(
            self.method,
            http_conn_id=self.http_conn_id,
            auth_type=self.auth_type,
            tcp_keep_alive=self.tcp_keep_alive,
            tcp_keep_alive_idle=self.tcp_keep_alive_idle,
            tcp_keep_alive_count=self.tcp_keep_alive_count,
            tcp_keep_alive_interval=self.tcp_keep_alive_interval,
            retry_limit=self.request_retry_limit,
        )

    def poke(self, context: Any) -> bool:
        self.log.info("Poking: %s %s", self.method, self.endpoint)
        # The status is judged here, so the hook must not raise on a 4xx/5xx answer itself.
        options = {**self.extra_options, "check_response": False}
        hook = self.hook
        response = hook.run(self.endpoint, self.request_params, self.headers, options, **self.request_kwargs)
        if response.status_code >= 400:
            if str(response.status_code) in self.response_error_codes_allowlist:
                self.log.info("%s answered %s: not there yet", self.endpoint, response.status_code)
                return False
            if self.extra_options.get("check_response", True):
                hook.check_response(response)  # raises HttpStatusError naming the status and body
        if self.response_check is not None:
            ok = call_with_context(self.response_check, response, context)
            if not ok:
                self.log.info("response_check returned %r: poking again", ok)
            return bool(ok)
        return True
