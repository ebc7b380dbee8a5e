"""The FastAPI application: login routes, the REST API under ``/api/v2``, health and version.

:func:`create_app` mounts ``updraft.api.security.auth.router`` (``/auth/...``), every router of
``updraft.api.routes.ROUTERS`` under ``/api/v2``, ``GET /health`` and its Airflow 3 path ``GET
/api/v2/monitor/health`` and ``GET /api/v2/version`` (both without login, as in Airflow 3), and the
Swagger UI page ``/api/v2/docs`` with its files from the swagger-ui-py package (no CDN). Every
4xx/5xx answer is JSON ``{"detail", "status", "title"}`` (the HTML login form excepted).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

import updraft
from updraft.api.routes import ROUTERS
from updraft.api.security.auth import router as auth_router
from updraft.api.security.dependencies import engine_of
from updraft.api.security.ratelimit import LoginRateLimiter
from updraft.api.security.session import SessionCookieMiddleware
from updraft.api.ui.render import error_page, wants_html
from updraft.api.ui.routes import install_ui
from updraft.core.config import conf
from updraft.core.db.types import utcnow
from updraft.core.scheduler.loop import heartbeat_age

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v2"
DOCS_URL = f"{API_PREFIX}/docs"
#: Swagger UI's own files, served from the swagger-ui-py package so the docs work offline.
DOCS_STATIC_URL = f"{DOCS_URL}/static"
log = logging.getLogger(__name__)


def swagger_ui_dir() -> Path:
    """The folder of Swagger UI's JS, CSS and icons in the swagger-ui-py package (not imported)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing; reinstall updraft")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _error(status_code: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    try:
        title = HTTPStatus(status_code).phrase
    except ValueError:
        title = "Error"
    return JSONResponse(
        {"detail": detail, "status": status_code, "title": title}, status_code=status_code, headers=headers
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if wants_html(request) and exc.status_code in (403, 404):
        return error_page(request, exc.status_code, exc.detail)
    return _error(exc.status_code, exc.detail, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _error(422, jsonable_encoder(exc.errors()))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _error(500, "internal server error; see the API server's log")


def _health(engine: Engine) -> dict[str, Any]:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db_status = "healthy"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        db_status = "unhealthy"
    scheduler: dict[str, Any] = {"status": "unhealthy", "latest_scheduler_heartbeat": None}
    if db_status == "healthy":
        try:
            age = heartbeat_age(engine)
        except Exception:  # noqa: BLE001 - e.g. the schema is not migrated yet
            age = None
        if age is not None:
            threshold = conf.getint("scheduler", "scheduler_health_check_threshold", fallback=30)
            scheduler = {
                "status": "healthy" if age <= timedelta(seconds=threshold) else "unhealthy",
                "latest_scheduler_heartbeat": (utcnow() - age).isoformat(),
            }
    # Airflow 3 also reports a triggerer and a DAG processor; Updraft keeps no heartbeat for either,
    # so their status is unknown (None), as Airflow reports for a component that never started.
    return {
        "metadatabase": {"status": db_status},
        "scheduler": scheduler,
        "triggerer": {"status": None, "latest_triggerer_heartbeat": None},
        "dag_processor": {"status": None, "latest_dag_processor_heartbeat": None},
    }


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Sync routes run in this many threads. Python runs one at a time: with 40 (anyio's default)
    # twenty concurrent requests spent more time switching than working (DAG list p95 459 ms at
    # 20 clients; 167 ms with 2 threads, 240 ms with 4).
    anyio.to_thread.current_default_thread_limiter().total_tokens = conf.getint("api", "worker_threads")
    yield


def create_app(engine: Engine | None = None) -> FastAPI:
    """The app; ``engine`` defaults to the configured metadata DB (its schema must be current)."""
    app = FastAPI(
        lifespan=_lifespan,
        title="Updraft REST API",
        version=updraft.__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below from local files instead of a CDN
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.login_limiter = LoginRateLimiter(
        conf.getint("api", "login_rate_limit"), float(conf.getint("api", "login_rate_window"))
    )
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)

    app.add_middleware(SessionCookieMiddleware)

    app.include_router(auth_router)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    install_ui(app)
    app.mount(DOCS_STATIC_URL, StaticFiles(directory=swagger_ui_dir()), name="swagger-ui")

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI for the REST API (no login); every file it loads comes from this server."""
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC_URL}/favicon-32x32.png",
        )

    @app.get(f"{API_PREFIX}/monitor/health", tags=["monitor"])
    @app.get("/health", tags=["monitor"])
    def health(request: Request) -> dict[str, Any]:
        """Whether the metadata DB answers and a scheduler heartbeated recently (no login needed)."""
        return _health(engine_of(request))

    @app.get(f"{API_PREFIX}/version", tags=["monitor"])
    def version() -> dict[str, Any]:
        """The server's version; public, as in Airflow 3, so clients can check it before logging in."""
        return {"version": updraft.__version__, "git_version": None}

    return app
