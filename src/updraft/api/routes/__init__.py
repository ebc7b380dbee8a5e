"""The REST API's routers, mounted under ``/api/v2`` by the app factory.

Order matters: the try, log and XCom routes (``.../{task_id}/tries``) come before the mapped task
instance route (``.../{task_id}/{map_index}``), which would otherwise match them first.
"""

from __future__ import annotations

from fastapi import APIRouter

from updraft.api.routes import (
    assets,
    connections,
    dag_runs,
    dags,
    event_logs,
    import_errors,
    pools,
    task_instance_logs,
    task_instances,
    users,
    variables,
    xcom,
)

ROUTERS: list[APIRouter] = [
    dags.router,
    dag_runs.router,
    task_instance_logs.router,
    xcom.router,
    task_instances.router,
    import_errors.router,
    assets.router,
    pools.router,
    variables.router,
    connections.router,
    event_logs.router,
    users.router,
]
