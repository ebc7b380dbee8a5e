"""``HttpOperator``: call an HTTP endpoint from a task; the response (filtered) becomes its XCom.

``response_check(response)`` returning False fails the task; ``response_filter(response)`` picks
what is pushed (the response text otherwise). Both may also take context variables by name
(``ti``, ``ds``...) or ``**context``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from updraft.providers.http.hooks import HttpHook, body_excerpt
from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.exceptions import UpdraftException

__all__ = ["HttpOperator", "SimpleHttpOperator", "call_with_context"]


def call_with_context(func: Callable[..., Any], first: Any, context: Mapping[str, Any]) -> Any:
    """``func(first, **what it asks for from context)``: all of it with ``**kwargs``."""
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return func(first)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return func(first, **context)
    names = {
        p.name
        for p in parameters[1:]
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return func(first, **{k: v for k, v in context.items() if k in names})


class HttpOperator(BaseOperator):
    """Send ``method`` to ``endpoint`` on the service of ``http_conn_id``.

    ``data`` is the query of a GET (the body otherwise), ``json`` a JSON body; ``headers`` add to
    the connection's. ``extra_options`` as :meth:`HttpHook.run` (timeout, verify, check_response...).
    ``request_retry_limit``/``request_retry_delay`` are the hook's ``retry_limit``/``retry_delay``
    (``retries``/``retry_delay`` stay the task's own retries).
    """

    template_fields: ClassVar[Sequence[str]] = ("endpoint", "data", "json", "headers")
    template_fields_renderers = {"headers": "json", "data": "py", "json": "json"}
    template_ext: ClassVar[Sequence[str]] = ()
    ui_color = "#f4a460"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        method: str = "POST",
        data: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        response_check: Callable[..., Any] | None = None,
        response_filter: Callable[..., Any] | None = None,
        extra_options: dict[str, Any] | None = None,
        http_conn_id: str = "http_default",
        log_response: bool = False,
        auth_type: Any = None,
        tcp_keep_alive: bool = True,
        request_retry_limit: int = 3,
        request_retry_delay: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.method = method
        self.data = data
        self.json = json
        self.headers = headers or {}
        self.response_check = response_check
        self.response_filter = response_filter
        self.extra_options = extra_options or {}
        self.http_conn_id = http_conn_id
        self.log_response = log_response
        self.auth_type = auth_type
        self.tcp_keep_alive = tcp_keep_alive
        self.request_retry_limit = request_retry_limit
        self.request_retry_delay = request_retry_delay

    @property
    def hook(self) -> HttpHook:
        return HttpHook(
            self.method,
            http_conn_id=self.http_conn_id,
            auth_type=self.auth_type,
            tcp_keep_alive=self.tcp_keep_alive,
            retry_limit=self.request_retry_limit,
            retry_delay=self.request_retry_delay,
        )

    def execute(self, context: Any) -> Any:
        self.log.info("Calling HTTP method %s on %s", self.method, self.endpoint)
        response = self.hook.run(self.endpoint, self.data, self.headers, self.extra_options, json=self.json)
        return self.process_response(context, response)

    def process_response(self, context: Any, response: httpx.Response) -> Any:
        if self.log_response:
            self.log.info("Response %s: %s", response.status_code, response.text)
        if self.response_check is not None:
            ok = call_with_context(self.response_check, response, context)
            if not ok:
                raise UpdraftException(
                    f"task {self.task_id!r}: response_check returned {ok!r} for "
                    f"{response.request.method} {self.endpoint or '/'} (status {response.status_code}, "
                    f"body: {body_excerpt(response)})"
                )
        if self.response_filter is not None:
            return call_with_context(self.response_filter, response, context)
        return response.text


#: The name older Airflow DAGs use.
SimpleHttpOperator = HttpOperator
