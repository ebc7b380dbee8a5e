"""Pools: CRUD with Airflow's rules, the default pool, import/export, and slot usage by state."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import insert

from tests.admin.conftest import RUN, TI, Admin
from updraft.core.pools import (
    DEFAULT_POOL,
    PoolError,
    PoolInfo,
    PoolNotFound,
    PoolUsage,
    delete_pool,
    export_pools,
    get_pool,
    import_pools,
    list_pools,
    parse_pools_json,
    pool_usage,
    set_pool,
)


def test_default_pool_exists_and_cannot_be_deleted_but_can_be_resized(admin: Admin):
    with admin.engine.begin() as conn:
        assert get_pool(conn, DEFAULT_POOL) == PoolInfo(DEFAULT_POOL, 128, "Default pool", False)
        with pytest.raises(PoolError, match="default_pool cannot be deleted"):
            delete_pool(conn, DEFAULT_POOL)
        pool, created = set_pool(conn, DEFAULT_POOL, 16, "smaller")
        assert (pool.slots, created) == (16, False)
        assert get_pool(conn, DEFAULT_POOL) == PoolInfo(DEFAULT_POOL, 16, "smaller", False)


def test_create_update_list_delete(admin: Admin):
    with admin.engine.begin() as conn:
        _, created = set_pool(conn, "api", "4", "rate limited API")
        assert created
        _, created = set_pool(conn, "api", 2, "slower now", include_deferred=True)
        assert not created
        set_pool(conn, "unbounded", -1, "no limit")
        assert list_pools(conn) == [
            PoolInfo("api", 2, "slower now", True),
            PoolInfo(DEFAULT_POOL, 128, "Default pool", False),
            PoolInfo("unbounded", -1, "no limit", False),
        ]
        assert delete_pool(conn, "api") == PoolInfo("api", 2, "slower now", True)
        assert get_pool(conn, "api") is None
        with pytest.raises(PoolNotFound, match="pool 'api' does not exist"):
            delete_pool(conn, "api")


@pytest.mark.parametrize(
    ("name", "slots", "message"),
    [
        ("p", -2, "0 or more, or -1 for unlimited"),
        ("p", "many", "slots must be an integer"),
        ("p", 1.5, "slots must be an integer"),
        ("p", True, "slots must be an integer"),
        ("", 1, "needs a name"),
        (" p", 1, "must not start or end with spaces"),
        ("x" * 257, 1, "longer than 256"),
    ],
)
def test_bad_pool_input_is_refused_and_nothing_is_stored(admin: Admin, name, slots, message: str):
    with admin.engine.begin() as conn:
        with pytest.raises(PoolError, match=message):
            set_pool(conn, name, slots, "d")
        assert [p.name for p in list_pools(conn)] == [DEFAULT_POOL]


def test_import_export_round_trip_and_invalid_files_import_nothing(admin: Admin):
    pools_json = {
        "api": {"slots": 3, "description": "API", "include_deferred": True},
        DEFAULT_POOL: {"slots": 64, "description": "Default pool"},
    }
    with admin.engine.begin() as conn:
        set_pool(conn, "api", 1, "old")
        assert import_pools(conn, parse_pools_json(json.dumps(pools_json))) == 2
        exported = export_pools(conn)
    assert exported == {
        "api": {"slots": 3, "description": "API", "include_deferred": True},
        DEFAULT_POOL: {"slots": 64, "description": "Default pool", "include_deferred": False},
    }
    assert parse_pools_json(json.dumps(exported)) == [
        PoolInfo("api", 3, "API", True),
        PoolInfo(DEFAULT_POOL, 64, "Default pool", False),
    ]
    bad = {"ok": {"slots": 1, "description": ""}, "neg": {"slots": -3, "description": ""}, "x": {"slots": 1}}
    with pytest.raises(PoolError, match="nothing was imported") as info:
        parse_pools_json(json.dumps(bad))
    assert "'neg'" in str(info.value) and "'x': needs an object with 'slots' and 'description'" in str(
        info.value
    )
    with pytest.raises(PoolError, match="not valid JSON"):
        parse_pools_json("{nope")
    with pytest.raises(PoolError, match="must hold a JSON object"):
        parse_pools_json("[1]")


def test_pool_usage_counts_queued_running_and_deferred_slots_by_pool(admin: Admin):
    with admin.engine.begin() as conn:
        set_pool(conn, "p1", 4, "")
        set_pool(conn, "p_deferred", 10, "", include_deferred=True)
        set_pool(conn, "p_unlimited", -1, "")
        conn.execute(insert(RUN), {"dag_id": "d", "run_id": "r", "run_type": "manual", "state": "running"})
        rows = [
            ("p1", "running", 2),
            ("p1", "queued", 1),
            ("p1", "deferred", 1),  # p1 does not count deferred tasks
            ("p1", "success", 5),
            ("p1", None, 1),
            ("p1", "scheduled", 1),
            ("p_deferred", "running", 1),
            ("p_deferred", "deferred", 3),
            ("p_unlimited", "running", 5),
            ("ghost", "running", 7),  # a pool that does not exist is not counted anywhere
        ]
        conn.execute(
            insert(TI),
            [
                {
                    "dag_id": "d",
                    "run_id": "r",
                    "task_id": f"t{i}",
                    "pool": pool,
                    "state": state,
                    "pool_slots": n,
                }
                for i, (pool, state, n) in enumerate(rows)
            ],
        )
        usage = pool_usage(conn)
    assert usage == {
        DEFAULT_POOL: PoolUsage(128, 0, 0, 128),
        "p1": PoolUsage(4, 2, 1, 1),
        "p_deferred": PoolUsage(10, 1, 0, 6),
        "p_unlimited": PoolUsage(-1, 5, 0, math.inf),
    }
    slots, running_slots, queued_slots, open_slots = usage["p1"]
    assert (slots, running_slots, queued_slots, open_slots) == (4, 2, 1, 1)


def test_pools_cli(admin: Admin, tmp_path):
    created = admin.cli("pools", "set", "api", "-1", "the API")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "Pool api created"
    assert admin.cli("pools", "set", "api", "5", "the API", "--include-deferred").stdout.strip() == (
        "Pool api updated"
    )
    got = admin.cli("pools", "get", "api", "-o", "json")
    assert json.loads(got.stdout) == [
        {"pool": "api", "slots": 5, "description": "the API", "include_deferred": True}
    ]
    listed = admin.cli("pools", "list")
    assert [line.split()[0] for line in listed.stdout.splitlines()[2:]] == ["api", DEFAULT_POOL]

    export_file = tmp_path / "pools.json"
    exported = admin.cli("pools", "export", str(export_file))
    assert exported.stdout.strip() == f"Exported 2 pool(s) to {export_file}"
    assert set(json.loads(export_file.read_text())) == {"api", DEFAULT_POOL}
    assert admin.cli("pools", "delete", "api").stdout.strip() == "Pool api deleted"
    imported = admin.cli("pools", "import", str(export_file))
    assert imported.stdout.strip() == "Uploaded 2 pool(s)"
    assert json.loads(admin.cli("pools", "get", "api", "-o", "json").stdout)[0]["slots"] == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pools", "set", "api", "-3", "d"), "0 or more, or -1 for unlimited"),
        (("pools", "set", "api", "3"), "Missing argument 'DESCRIPTION'"),
        (("pools", "get", "nope"), "pool 'nope' does not exist"),
        (("pools", "delete", "default_pool"), "default_pool cannot be deleted"),
        (("pools", "import", "/no/such/pools.json"), "cannot read pools file"),
    ],
)
def test_pools_cli_bad_input_exits_2(admin: Admin, args: tuple[str, ...], message: str):
    result = admin.cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    with admin.engine.connect() as conn:
        assert list_pools(conn) == [PoolInfo(DEFAULT_POOL, 128, "Default pool", False)]
