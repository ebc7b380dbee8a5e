"""The UI's routers and error handling, installed on the app by ``install_ui``.

An anonymous visitor of a page is redirected to the login form; an error on a page (403, 404)
is shown as an HTML page to a browser, and as the usual JSON body to anything else.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from updraft.api.ui import STATIC_DIR, admin_pages, chart_data, dag_list_data, grid_data, pages, ti_data
from updraft.api.ui.render import LoginRequired, login_redirect, static_url

__all__ = ["UI_ROUTERS", "install_ui"]

UI_ROUTERS: list[APIRouter] = [
    pages.router,
    dag_list_data.router,
    grid_data.router,
    ti_data.router,
    chart_data.router,
    admin_pages.router,
]


async def _login_required(request: Request, exc: Exception) -> Response:
    return login_redirect(request)


def _favicon() -> Response:
    """Browsers ask for ``/favicon.ico`` on pages that name no icon (the login form)."""
    return RedirectResponse(static_url("favicon.svg"), status_code=301)


def install_ui(app: FastAPI) -> None:
    """Mount the pages, their data routes and ``/static`` on ``app``."""
    for router in UI_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
