"""Time the API server under load: the DAG list and the grid data, 20 clients at once.

Setup, in a temp UPDRAFT_HOME on SQLite: 1,000 small DAGs stored as the DAG processor stores them
(``updraft.core.dag_store.sync_serialized_dags``), plus one DAG of 500 tasks with 50 finished runs
(dag_run and task_instance rows inserted in bulk). Then ``updraft api-server`` runs as a real
subprocess on a free loopback port, the benchmark logs in for a bearer token, and 20 concurrent
httpx clients call each endpoint in turn; it prints p50/p95/max latency and requests/s with the
goals: DAG list (``GET /api/v2/dags?limit=100``) p95 <= 150 ms, grid data (``GET
/ui/grid/{dag_id}?limit=50``, when the server has that route) p95 <= 300 ms.

Usage: python benchmarks/api_latency.py [--requests N] [--clients N] [--workers N] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

DAGS = 1000
BIG_TASKS = 500
BIG_RUNS = 50
BIG_DAG = "bench_big"
PASSWORD = "bench-password"
#: (name, path, p95 goal in ms)
ENDPOINTS = [
    ("DAG list", "/api/v2/dags?limit=100", 150.0),
    ("UI DAG list", "/ui/dags?limit=100", 150.0),  # what the DAG list page polls
    ("grid data", f"/ui/grid/{BIG_DAG}?limit=50", 300.0),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_db() -> None:
    """The DAGs, runs, task instances and the admin user, in the configured metadata DB."""
    from sqlalchemy import insert

    from updraft.core.dag_store import sync_serialized_dags
    from updraft.core.db.engine import get_engine
    from updraft.core.db.migrate import ensure_schema
    from updraft.core.db.models import DagRun, TaskInstance
    from updraft.core.users import create_user
    from updraft.operators import EmptyOperator
    from updraft.sdk.dag import DAG
    from updraft.sdk.serialization import serialize_dag

    engine = get_engine()
    ensure_schema(engine)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    items = []
    for i in range(DAGS):
        with DAG(f"bench_{i:04d}", start_date=start, schedule="@daily", tags=["bench", f"t{i % 7}"]) as dag:
            first = EmptyOperator(task_id="start")
            first >> [EmptyOperator(task_id=f"work_{k}") for k in range(1 + i % 3)]
        items.append((serialize_dag(dag), None))
    with DAG(BIG_DAG, start_date=start, schedule="@daily", tags=["bench"]) as big:
        previous = None
        for k in range(BIG_TASKS):
            task = EmptyOperator(task_id=f"task_{k:03d}")
            if previous is not None and k % 10:
                previous >> task
            previous = task
    items.append((serialize_dag(big), None))
    with engine.begin() as conn:
        stored = sync_serialized_dags(conn, items, paused_at_creation=False)
        serialized_id = stored[BIG_DAG].serialized_id
        runs, tis = [], []
        for r in range(BIG_RUNS):
            logical = start + timedelta(days=r)
            run_id = f"scheduled__{logical.isoformat()}"
            runs.append(
                {
                    "dag_id": BIG_DAG,
                    "run_id": run_id,
                    "logical_date": logical,
                    "data_interval_start": logical,
                    "data_interval_end": logical + timedelta(days=1),
                    "run_after": logical + timedelta(days=1),
                    "queued_at": logical + timedelta(days=1),
                    "start_date": logical + timedelta(days=1),
                    "end_date": logical + timedelta(days=1, minutes=5),
                    "run_type": "scheduled",
                    "state": "failed" if r % 10 == 3 else "success",
                    "serialized_dag_id": serialized_id,
                }
            )
            for k in range(BIG_TASKS):
                began = logical + timedelta(days=1, seconds=k)
                tis.append(
                    {
                        "dag_id": BIG_DAG,
                        "run_id": run_id,
                        "task_id": f"task_{k:03d}",
                        "map_index": -1,
                        "try_number": 1,
                        "state": "failed" if r % 10 == 3 and k == 7 else "success",
                        "start_date": began,
                        "end_date": began + timedelta(seconds=1),
                        "duration": 1.0,
                        "operator": "EmptyOperator",
                        "pool": "default_pool",
                        "queue": "default",
                        "priority_weight": 1,
                        "updated_at": began + timedelta(seconds=1),
                    }
                )
        conn.execute(insert(DagRun), runs)
        conn.execute(insert(TaskInstance), tis)
        create_user(
            conn,
            username="admin",
            first_name="Bench",
            last_name="Admin",
            email="admin@example.com",
            roles=["Admin"],
            password=PASSWORD,
        )


def start_server(port: int, log: Path, workers: int | None = None) -> subprocess.Popen[bytes]:
    updraft = Path(sys.executable).with_name("updraft")
    command = [str(updraft), "api-server", "--host", "127.0.0.1", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"api-server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"api-server did not answer within 30 s:\n{log.read_text()}")


async def load(base: str, path: str, headers: dict[str, str], requests: int, clients: int) -> dict[str, Any]:
    """``requests`` GETs of ``path`` from ``clients`` concurrent connections; latencies in ms."""
    latencies: list[float] = []
    failures: list[str] = []
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        await client.get(path)  # warm-up: caches, first import of the route's modules

        async def worker() -> None:
            for _ in remaining:
                began = time.perf_counter()
                try:
                    answer = await client.get(path)
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append((time.perf_counter() - began) * 1000)
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 1),
        "max_ms": round(latencies[-1], 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--server-log", type=Path, default=None, help="keep the api-server's output here")
    parser.add_argument(
        "--workers", type=int, default=None, help="api-server worker processes (default: api.workers)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="updraft-api-bench-") as tmp:
        home = Path(tmp)
        for name in list(os.environ):
            if name.startswith(("UPDRAFT__", "AIRFLOW__")):
                del os.environ[name]
        os.environ["UPDRAFT_HOME"] = str(home)
        os.environ["UPDRAFT__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'bench.db'}"
        os.environ["UPDRAFT__CORE__DAGS_FOLDER"] = str(home / "dags")
        os.environ["UPDRAFT__CORE__LOAD_EXAMPLES"] = "False"
        began = time.perf_counter()
        build_db()
        print(
            f"setup:        {DAGS + 1} DAGs, {BIG_RUNS} runs x {BIG_TASKS} tasks in {time.perf_counter() - began:.1f} s"
        )

        port = _free_port()
        server = start_server(port, home / "api-server.log", args.workers)
        results: dict[str, Any] = {}
        try:
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(
                f"{base}/auth/token", json={"username": "admin", "password": PASSWORD}, timeout=10
            )
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for name, path, goal in ENDPOINTS:
                if httpx.get(base + path, headers=headers, timeout=60).status_code == 404:
                    print(f"{name + ':':<13} skipped, the server has no {path.split('?')[0]} yet")
                    continue
                numbers = asyncio.run(load(base, path, headers, args.requests, args.clients))
                verdict = "OK" if numbers["p95_ms"] <= goal and not numbers["failures"] else "MISSES GOAL"
                print(
                    f"{name + ':':<13} p50 {numbers['p50_ms']:.0f} ms, p95 {numbers['p95_ms']:.0f} ms, "
                    f"max {numbers['max_ms']:.0f} ms, {numbers['requests_per_s']:.0f} req/s "
                    f"({numbers['requests']} requests, {args.clients} clients); goal p95 <= {goal:.0f} ms: {verdict}"
                )
                if numbers["failures"]:
                    print(f"              {numbers['failures']} failed; first: {numbers['first_failure']}")
                results[name] = numbers | {"goal_p95_ms": goal}
        except BaseException:
            print(f"api-server log:\n{(home / 'api-server.log').read_text()[-3000:]}")
            raise
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
            if args.server_log is not None:
                args.server_log.write_bytes((home / "api-server.log").read_bytes())
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
