"""Pools: named budgets of slots that task instances take while queued or running.

Owns the ``slot_pool`` table's rules, as in Airflow: ``slots`` is a count of slots, or ``-1`` for an
unlimited pool; ``default_pool`` always exists (its size may change, it cannot be deleted); a task
instance occupies ``pool_slots`` of its pool while ``queued`` or ``running`` (and ``deferred`` when
the pool has ``include_deferred``). :func:`pool_usage` is what the scheduler reads, in one grouped
query. The JSON form of ``pools import``/``export`` is Airflow's: ``{name: {"slots": int,
"description": str, "include_deferred": bool}}``.

Functions take a ``Connection`` inside the caller's transaction and never commit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, and_, bindparam, case, delete, func, insert, select, update

from updraft.core.db.models import Pool, TaskInstance
from updraft.sdk.exceptions import UpdraftException
from updraft.sdk.states import FINISHED_STATES, TaskInstanceState

__all__ = [
    "DEFAULT_POOL",
    "MAX_NAME_LENGTH",
    "UNLIMITED",
    "PoolError",
    "PoolInfo",
    "PoolNotFound",
    "PoolUsage",
    "delete_pool",
    "export_pools",
    "get_pool",
    "import_pools",
    "list_pools",
    "parse_pools_json",
    "pool_usage",
    "set_pool",
    "unfinished_tis_in_pool",
    "validate_pool",
]

DEFAULT_POOL = "default_pool"
UNLIMITED = -1
MAX_NAME_LENGTH = 256
_POOL: Table = Pool.__table__  # type: ignore[assignment]
_TI: Table = TaskInstance.__table__  # type: ignore[assignment]


class PoolError(UpdraftException, ValueError):
    """A pool name, size or pools file is invalid, or the change is not allowed."""


class PoolNotFound(PoolError, LookupError):
    """No pool has this name."""


@dataclass(frozen=True)
class PoolInfo:
    """One pool as stored: ``slots`` is ``-1`` for an unlimited pool."""

    name: str
    slots: int
    description: str | None = None
    include_deferred: bool = False

    def as_row(self) -> dict[str, Any]:
        return {
            "pool": self.name,
            "slots": self.slots,
            "description": self.description,
            "include_deferred": self.include_deferred,
        }


class PoolUsage(NamedTuple):
    """Slots of one pool now: ``open_slots`` is ``math.inf`` when ``slots`` is -1 (unlimited).

    ``open_slots`` may be negative when the pool was made smaller than what is in use.
    """

    slots: int
    running_slots: int
    queued_slots: int
    open_slots: float


def validate_pool(name: str, slots: Any, description: str | None = None) -> int:
    """Check a pool's name and size as a user typed them; returns the slots as an int."""
    if not isinstance(name, str) or not name.strip():
        raise PoolError("a pool needs a name")
    if name != name.strip():
        raise PoolError(f"pool name {name!r} must not start or end with spaces")
    if len(name) > MAX_NAME_LENGTH:
        raise PoolError(f"pool name {name[:40]!r}... is longer than {MAX_NAME_LENGTH} characters")
    if isinstance(slots, bool) or not isinstance(slots, (int, str)):
        raise PoolError(f"pool {name!r}: slots must be an integer, not {slots!r}")
    try:
        count = int(slots)
    except ValueError:
        raise PoolError(f"pool {name!r}: slots must be an integer, not {slots!r}") from None
    if count < UNLIMITED:
        raise PoolError(f"pool {name!r}: slots must be 0 or more, or -1 for unlimited, not {count}")
    if description is not None and not isinstance(description, str):
        raise PoolError(f"pool {name!r}: description must be text, not {description!r}")
    return count


def _info(row: Any) -> PoolInfo:
    return PoolInfo(row.pool, int(row.slots), row.description, bool(row.include_deferred))


def _select_pools() -> Any:
    return select(_POOL.c.pool, _POOL.c.slots, _POOL.c.description, _POOL.c.include_deferred)


def get_pool(conn: Connection, name: str) -> PoolInfo | None:
    """The pool called ``name``, or None."""
    row = conn.execute(_select_pools().where(_POOL.c.pool == name)).first()
    return _info(row) if row is not None else None


def list_pools(conn: Connection) -> list[PoolInfo]:
    """Every pool, by name."""
    return [_info(row) for row in conn.execute(_select_pools().order_by(_POOL.c.pool))]


def set_pool(
    conn: Connection, name: str, slots: int | str, description: str | None, include_deferred: bool = False
) -> tuple[PoolInfo, bool]:
    """Create the pool or update it (all fields); returns it and whether it was created."""
    count = validate_pool(name, slots, description)
    pool = PoolInfo(name, count, description, include_deferred)
    changed = conn.execute(
        update(_POOL)
        .where(_POOL.c.pool == name)
        .values(slots=count, description=description, include_deferred=include_deferred)
    ).rowcount
    if changed:
        return pool, False
    conn.execute(insert(_POOL), pool.as_row())
    return pool, True


def delete_pool(conn: Connection, name: str) -> PoolInfo:
    """Delete a pool; ``default_pool`` cannot be deleted. Returns the deleted pool."""
    if name == DEFAULT_POOL:
        raise PoolError(f"{DEFAULT_POOL} cannot be deleted (change its size with `pools set` instead)")
    pool = get_pool(conn, name)
    if pool is None:
        raise PoolNotFound(f"pool {name!r} does not exist (see `updraft pools list`)")
    conn.execute(delete(_POOL).where(_POOL.c.pool == name))
    return pool


def unfinished_tis_in_pool(conn: Connection, name: str) -> int:
    """How many task instances that may still run use the pool ``name``."""
    finished = [s.value for s in FINISHED_STATES]
    return int(
        conn.scalar(
            select(func.count())
            .select_from(_TI)
            .where(_TI.c.pool == name, _TI.c.state.is_(None) | _TI.c.state.not_in(finished))
        )
        or 0
    )


def pool_usage(conn: Connection) -> dict[str, PoolUsage]:
    """Slots, running and queued slots, and open slots of every pool, in one grouped query.

    Task instances in a pool that does not exist are not counted anywhere.
    """
    running, queued, deferred = (
        TaskInstanceState.RUNNING.value,
        TaskInstanceState.QUEUED.value,
        TaskInstanceState.DEFERRED.value,
    )

    def slots_in(state: str) -> Any:
        return func.coalesce(func.sum(case((_TI.c.state == state, _TI.c.pool_slots), else_=0)), 0)

    query = (
        select(
            _POOL.c.pool,
            _POOL.c.slots,
            _POOL.c.include_deferred,
            slots_in(running),
            slots_in(queued),
            slots_in(deferred),
        )
        .select_from(
            _POOL.outerjoin(
                _TI, and_(_TI.c.pool == _POOL.c.pool, _TI.c.state.in_([running, queued, deferred]))
            )
        )
        .group_by(_POOL.c.pool, _POOL.c.slots, _POOL.c.include_deferred)
    )
    usage: dict[str, PoolUsage] = {}
    for name, slots, include_deferred, run_slots, queue_slots, defer_slots in conn.execute(query):
        used = int(run_slots) + int(queue_slots) + (int(defer_slots) if include_deferred else 0)
        total = math.inf if slots == UNLIMITED else int(slots)
        usage[name] = PoolUsage(int(slots), int(run_slots), int(queue_slots), total - used)
    return usage


def parse_pools_json(text: str, source: str = "the pools file") -> list[PoolInfo]:
    """Read Airflow's pools JSON; every entry is checked before anything is used."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PoolError(
            f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise PoolError(f'{source} must hold a JSON object: {{"name": {{"slots": 4, "description": "..."}}}}')
    pools, problems = [], []
    for name, spec in data.items():
        if not isinstance(spec, dict) or "slots" not in spec or "description" not in spec:
            problems.append(f"{name!r}: needs an object with 'slots' and 'description'")
            continue
        include_deferred = spec.get("include_deferred", False)
        if not isinstance(include_deferred, bool):
            problems.append(f"{name!r}: include_deferred must be true or false")
            continue
        try:
            slots = validate_pool(name, spec["slots"], spec["description"])
        except PoolError as exc:
            problems.append(str(exc))
            continue
        pools.append(PoolInfo(name, slots, spec["description"], include_deferred))
    if problems:
        raise PoolError(f"{source} has invalid pools, nothing was imported:\n  " + "\n  ".join(problems))
    return pools


def import_pools(conn: Connection, pools: Iterable[PoolInfo]) -> int:
    """Create or update each pool (one statement per kind of change); returns how many were written."""
    by_name = {pool.name: pool for pool in pools}
    existing = set(conn.scalars(select(_POOL.c.pool).where(_POOL.c.pool.in_(list(by_name)))))
    updates = [
        {
            "b_pool": p.name,
            "slots": p.slots,
            "description": p.description,
            "include_deferred": p.include_deferred,
        }
        for p in by_name.values()
        if p.name in existing
    ]
    if updates:
        conn.execute(update(_POOL).where(_POOL.c.pool == bindparam("b_pool")), updates)
    inserts = [p.as_row() for p in by_name.values() if p.name not in existing]
    if inserts:
        conn.execute(insert(_POOL), inserts)
    return len(by_name)


def export_pools(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every pool in Airflow's pools JSON form (what ``pools import`` reads)."""
    return {
        p.name: {"slots": p.slots, "description": p.description, "include_deferred": p.include_deferred}
        for p in list_pools(conn)
    }
