"""The web UI: server-rendered pages (Jinja2 templates) with our own small JS and CSS.

Pages live in ``pages`` (DAG list, DAG page, trigger form) and ``admin_pages`` (connections,
variables, pools, users, audit log); the JSON their scripts poll lives in ``data``. Static files
are served from ``static/`` at ``/static`` (no CDN: the machine may be offline). Pages read only
the metadata DB and stored DAG JSON; no DAG-author code is imported or executed here.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
TEMPLATE_DIR = Path(__file__).with_name("templates")
