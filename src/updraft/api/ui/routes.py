"""The UI's routers, mounted at the root by the app factory (pages, then their JSON data)."""

from __future__ import annotations

from fastapi import APIRouter

UI_ROUTERS: list[APIRouter] = []
