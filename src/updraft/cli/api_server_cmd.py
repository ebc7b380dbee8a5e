"""``updraft api-server`` (alias ``webserver``): serve the REST API and the UI with uvicorn."""

from __future__ import annotations

import subprocess
import sys

import click


def start_api_server_process(host: str, port: int) -> subprocess.Popen[bytes]:
    """``updraft api-server`` in a child process (as ``updraft standalone`` runs it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "updraft.cli.main", "api-server", "--host", host, "--port", str(port)]
    )


@click.command(name="api-server")
@click.option("-H", "--host", default=None, help="Address to listen on (default: api.host).")
@click.option("-p", "--port", type=int, default=None, help="Port to listen on (default: api.port).")
@click.option("-w", "--workers", type=int, default=None, help="Worker processes (default: api.workers).")
def command(host: str | None, port: int | None, workers: int | None) -> None:
    """Migrate the DB, then serve the REST API (/api/v2) and login pages."""
    import uvicorn

    from updraft.core.config import conf
    from updraft.core.db.engine import dispose_engines, get_engine
    from updraft.core.db.migrate import ensure_schema

    ensure_schema(get_engine())
    dispose_engines()
    uvicorn.run(
        "updraft.api.app:create_app",
        factory=True,
        host=host or conf.get("api", "host"),
        port=port or conf.getint("api", "port"),
        workers=workers or conf.getint("api", "workers"),
        log_level="info",
    )
