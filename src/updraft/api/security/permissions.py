"""Roles and what each may do, with Airflow's meanings.

Viewer reads; User also triggers, clears, marks and pauses; Op also manages connections,
variables and pools; Admin also manages users and roles. Every route declares one permission
(``require(Permission.X)`` in ``updraft.api.security.dependencies``).
"""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    ADMIN = "Admin"
    OP = "Op"
    USER = "User"
    VIEWER = "Viewer"


class Permission(str, Enum):
    # Reading what runs.
    DAGS_READ = "dags.read"
    RUNS_READ = "runs.read"
    TASKS_READ = "tasks.read"
    LOGS_READ = "logs.read"
    XCOMS_READ = "xcoms.read"
    IMPORT_ERRORS_READ = "import_errors.read"
    POOLS_READ = "pools.read"
    ASSETS_READ = "assets.read"  # assets, their events and the queues of asset-scheduled DAGs
    # Changing what runs.
    DAGS_EDIT = "dags.edit"  # pause / unpause
    RUNS_TRIGGER = "runs.trigger"  # also: post an asset event, which may trigger runs
    RUNS_EDIT = "runs.edit"  # mark, clear, delete
    TASKS_EDIT = "tasks.edit"  # clear, set state
    # Configuration.
    CONNECTIONS_READ = "connections.read"
    CONNECTIONS_EDIT = "connections.edit"
    VARIABLES_READ = "variables.read"
    VARIABLES_EDIT = "variables.edit"
    POOLS_EDIT = "pools.edit"
    # Administration.
    USERS_READ = "users.read"
    USERS_EDIT = "users.edit"
    AUDIT_LOG_READ = "audit_log.read"


_VIEWER = frozenset(
    {
        Permission.DAGS_READ,
        Permission.RUNS_READ,
        Permission.TASKS_READ,
        Permission.LOGS_READ,
        Permission.XCOMS_READ,
        Permission.IMPORT_ERRORS_READ,
        Permission.POOLS_READ,
        Permission.ASSETS_READ,
    }
)
_USER = _VIEWER | {Permission.DAGS_EDIT, Permission.RUNS_TRIGGER, Permission.RUNS_EDIT, Permission.TASKS_EDIT}
_OP = _USER | {
    Permission.CONNECTIONS_READ,
    Permission.CONNECTIONS_EDIT,
    Permission.VARIABLES_READ,
    Permission.VARIABLES_EDIT,
    Permission.POOLS_EDIT,
    Permission.AUDIT_LOG_READ,
}
_ADMIN = _OP | {Permission.USERS_READ, Permission.USERS_EDIT}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.USER: frozenset(_USER),
    Role.OP: frozenset(_OP),
    Role.ADMIN: frozenset(_ADMIN),
}


def permissions_of(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def parse_role(name: str) -> Role:
    for role in Role:
        if role.value.lower() == name.lower():
            return role
    raise ValueError(f"unknown role {name!r}; roles are: {', '.join(r.value for r in Role)}")
