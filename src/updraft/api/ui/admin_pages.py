"""The admin pages: connections, variables, pools, users, the audit log and the runs of every DAG.

Each page is a shell: its template draws the table and the forms, and its script
(``static/admin*.js``) reads and writes through the REST API (``/api/v2/...``) with the session
cookie, so permissions, validation and audit events stay in the API routes. A page is shown to a
user with its read permission; its write controls only with its edit permission (``can``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from updraft.api.security.dependencies import CurrentUser
from updraft.api.security.permissions import Permission, Role
from updraft.api.ui.render import page, require_page
from updraft.sdk.states import DagRunState, DagRunType

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


ConnectionsReader = Annotated[CurrentUser, Depends(require_page(Permission.CONNECTIONS_READ))]
VariablesReader = Annotated[CurrentUser, Depends(require_page(Permission.VARIABLES_READ))]
PoolsReader = Annotated[CurrentUser, Depends(require_page(Permission.POOLS_READ))]
UsersReader = Annotated[CurrentUser, Depends(require_page(Permission.USERS_READ))]
AuditReader = Annotated[CurrentUser, Depends(require_page(Permission.AUDIT_LOG_READ))]
RunsReader = Annotated[CurrentUser, Depends(require_page(Permission.RUNS_READ))]


@router.get("/connections", response_class=HTMLResponse)
def connections_page(request: Request, user: ConnectionsReader) -> HTMLResponse:
    return page(request, "admin/connections.html", user)


@router.get("/variables", response_class=HTMLResponse)
def variables_page(request: Request, user: VariablesReader) -> HTMLResponse:
    return page(request, "admin/variables.html", user)


@router.get("/pools", response_class=HTMLResponse)
def pools_page(request: Request, user: PoolsReader) -> HTMLResponse:
    return page(request, "admin/pools.html", user)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: UsersReader) -> HTMLResponse:
    return page(request, "admin/users.html", user, roles=[role.value for role in Role])


@router.get("/audit-log", response_class=HTMLResponse)
def audit_log_page(request: Request, user: AuditReader) -> HTMLResponse:
    return page(request, "admin/audit_log.html", user)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, user: RunsReader) -> HTMLResponse:
    return page(
        request,
        "admin/runs.html",
        user,
        states=[state.value for state in DagRunState],
        run_types=[run_type.value for run_type in DagRunType],
    )
