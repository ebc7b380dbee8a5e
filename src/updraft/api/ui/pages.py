"""The DAG pages: the DAG list, a DAG's page with its tabs, and the trigger form.

The DAG page reads the DAG's row and its latest serialized version; its tabs (grid, graph, Gantt,
durations) draw themselves from ``/ui/...`` JSON, the code and details tabs are rendered here.
Markdown docs are rendered by markdown-it with raw HTML disabled; source code is highlighted by
Pygments. Nothing here imports or runs the DAG's file.
"""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from sqlalchemy import Connection, Table, select
from starlette.concurrency import run_in_threadpool

from updraft.api.audit import record_event
from updraft.api.routes.deps import Conn
from updraft.api.security.dependencies import CurrentUser
from updraft.api.security.permissions import Permission
from updraft.api.ui.render import page, require_page
from updraft.api.ui.trigger_form import CONF_FIELD, conf_from_form, form_fields
from updraft.core import dag_admin
from updraft.core.dag_runs import DagNotStored, DagRunExists, latest_serialized
from updraft.core.db.engine import get_engine
from updraft.core.db.models import DagCode, DagModel
from updraft.core.scheduler.wakeup import notify_scheduler
from updraft.sdk.exceptions import ParamValidationError
from updraft.sdk.serialization import SerializedDag

__all__ = ["TABS", "router"]

router = APIRouter(include_in_schema=False)
TABS = ("grid", "graph", "gantt", "durations", "code", "details")
_DAG: Table = DagModel.__table__  # type: ignore[assignment]
_CODE: Table = DagCode.__table__  # type: ignore[assignment]
Reader = Annotated[CurrentUser, Depends(require_page(Permission.DAGS_READ))]
Triggerer = Annotated[CurrentUser, Depends(require_page(Permission.RUNS_TRIGGER))]


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str | None) -> str:
    """Markdown to HTML with raw HTML escaped (a DAG's doc cannot inject script)."""
    return _markdown().render(inspect.cleandoc(text)) if text else ""


@cache
def _code_css() -> str:
    return str(HtmlFormatter(style="default").get_style_defs(".code"))


def _highlight(source: str) -> str:
    return str(
        highlight(source, PythonLexer(), HtmlFormatter(linenos="inline", lineanchors="L", wrapcode=True))
    )


@router.get("/", response_class=HTMLResponse)
def dag_list_page(request: Request, user: Reader, search: str = "") -> HTMLResponse:
    return page(request, "dag_list.html", user, search=search)


def _dag_or_404(conn: Connection, dag_id: str) -> tuple[Any, SerializedDag]:
    row = conn.execute(select(_DAG).where(_DAG.c.dag_id == dag_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id!r} was not found")
    try:
        _, dag = latest_serialized(conn, dag_id)
    except DagNotStored as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return row, dag


def _details(dag: SerializedDag, row: Any) -> list[tuple[str, Any]]:
    def when(value: Any) -> str:
        return value.isoformat() if value is not None else ""

    def span(value: timedelta | None) -> str:
        return str(value) if value is not None else ""

    return [
        ("DAG id", dag.dag_id),
        ("Description", dag.description or ""),
        ("File", dag.fileloc),
        ("Owners", ", ".join(dag.owners)),
        ("Tags", ", ".join(dag.tags)),
        ("Schedule", f"{dag.timetable_description} ({dag.timetable_summary})"),
        ("Time zone", str(dag.timezone)),
        ("Start date", when(dag.start_date)),
        ("End date", when(dag.end_date)),
        ("Catchup", dag.catchup),
        ("Paused", row.is_paused),
        ("Max active runs", dag.max_active_runs),
        ("Max active tasks", dag.max_active_tasks),
        ("Max consecutive failed runs", dag.max_consecutive_failed_dag_runs or "no limit"),
        ("Run timeout", span(dag.dagrun_timeout) or "none"),
        ("Fail fast", dag.fail_fast),
        ("Tasks", len(dag.task_dict)),
        ("Last parsed", when(row.last_parsed_time)),
        ("Next run", when(row.next_dagrun_create_after)),
    ]


@router.get("/dags/{dag_id}", response_class=HTMLResponse)
def dag_page(
    request: Request, dag_id: str, conn: Conn, user: Reader, tab: str = "grid", run_id: str | None = None
) -> HTMLResponse:
    if tab not in TABS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown tab {tab!r}; tabs are: {', '.join(TABS)}")
    row, dag = _dag_or_404(conn, dag_id)
    context: dict[str, Any] = {
        "dag": dag,
        "row": row,
        "tab": tab,
        "tabs": TABS,
        "run_id": run_id,
        "doc_html": render_markdown(dag.doc_md),
    }
    if tab == "code":
        code = conn.execute(
            select(_CODE.c.source_code, _CODE.c.last_updated).where(_CODE.c.fileloc == dag.fileloc)
        ).first()
        context["code_html"] = _highlight(code.source_code) if code else None
        context["code_updated"] = code.last_updated if code else None
        context["code_css"] = _code_css()
    elif tab == "details":
        context["details"] = _details(dag, row)
        context["params"] = [
            (name, param.value if param.has_value else None, param.description, param.schema)
            for name, param in dag.params.items()
        ]
    return page(request, "dag.html", user, **context)


def _trigger_page(
    request: Request,
    user: CurrentUser,
    dag: SerializedDag,
    submitted: dict[str, str] | None,
    errors: dict[str, str],
) -> HTMLResponse:
    return page(
        request,
        "trigger.html",
        user,
        status_code=status.HTTP_400_BAD_REQUEST if errors else status.HTTP_200_OK,
        dag=dag,
        fields=form_fields(dag.params, submitted),
        conf_field=CONF_FIELD,
        conf_value=(submitted or {}).get(CONF_FIELD, ""),
        run_id_value=(submitted or {}).get("run_id", ""),
        logical_date_value=(submitted or {}).get("logical_date", ""),
        errors=errors,
        doc_html=render_markdown(dag.doc_md),
    )


@router.get("/dags/{dag_id}/trigger", response_class=HTMLResponse)
def trigger_form(request: Request, dag_id: str, conn: Conn, user: Triggerer) -> HTMLResponse:
    _, dag = _dag_or_404(conn, dag_id)
    return _trigger_page(request, user, dag, None, {})


def _trigger(request: Request, dag_id: str, user: CurrentUser, form: dict[str, str]) -> Response:
    with get_engine().connect() as conn:
        _, dag = _dag_or_404(conn, dag_id)
        conf, errors = conf_from_form(dag.params, form)
        run_id = form.get("run_id", "").strip() or None
        logical_raw = form.get("logical_date", "").strip()
        logical_date = None
        if logical_raw:
            try:
                logical_date = datetime.fromisoformat(logical_raw)
            except ValueError:
                errors["logical_date"] = f"{logical_raw!r} is not a date and time (YYYY-MM-DDTHH:MM)"
        if errors:
            return _trigger_page(request, user, dag, form, errors)
        try:
            row = dag_admin.trigger_dag(
                conn, dag_id, conf=conf, run_id=run_id, logical_date=logical_date, triggered_by="ui"
            )
        except DagRunExists as exc:
            conn.rollback()
            return _trigger_page(request, user, dag, form, {"run_id": str(exc)})
        except (ParamValidationError, dag_admin.DagAdminError, DagNotStored) as exc:
            conn.rollback()
            field = (
                "run_id" if isinstance(exc, dag_admin.DagAdminError) and "run_id" in str(exc) else CONF_FIELD
            )
            return _trigger_page(request, user, dag, form, {field: str(exc)})
        record_event(
            conn, user, request, "trigger_dag_run", dag_id=dag_id, run_id=row["run_id"], extra={"conf": conf}
        )
        conn.commit()
    notify_scheduler()
    target = f"/dags/{quote(dag_id, safe='')}?run_id={quote(row['run_id'], safe='')}"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


@router.post("/dags/{dag_id}/trigger")
async def trigger_submit(request: Request, dag_id: str, user: Triggerer) -> Response:
    """Create a manual run from the form; errors come back next to their fields. (A session's
    CSRF token is checked by the login dependency, as for every unsafe request.)"""
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    return await run_in_threadpool(_trigger, request, dag_id, user, form)
