"""The REST API's routers, mounted under ``/api/v2`` by the app factory."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
