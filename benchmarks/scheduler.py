"""`make bench`: the real scheduled path on SQLite.

A `updraft scheduler` process (local executor) runs; for each shape the benchmark triggers a run
and times it until the run is `success` (wall clock, trigger included). Hand-off latency is read
from the recorded task instances: a downstream task's start minus its upstream's end, over every
edge of every chain100 run.

Usage: python benchmarks/scheduler.py [--repeat N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

DAGS = """
from datetime import datetime
from updraft import DAG
from updraft.operators import PythonOperator

def noop():
    pass

with DAG("chain100", start_date=datetime(2024, 1, 1), schedule=None, max_active_tasks=256) as chain:
    previous = None
    for i in range(100):
        current = PythonOperator(task_id=f"t{i:03d}", python_callable=noop)
        if previous is not None:
            previous >> current
        previous = current

with DAG("fan200", start_date=datetime(2024, 1, 1), schedule=None, max_active_tasks=256) as fan:
    first = PythonOperator(task_id="first", python_callable=noop)
    last = PythonOperator(task_id="last", python_callable=noop)
    for i in range(200):
        first >> PythonOperator(task_id=f"t{i:03d}", python_callable=noop) >> last
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="updraft-sched-bench-"))
    (tmp / "dags").mkdir()
    (tmp / "dags" / "shapes.py").write_text(DAGS)
    os.environ.update(
        {
            "UPDRAFT_HOME": str(tmp / "home"),
            "UPDRAFT__CORE__DAGS_FOLDER": str(tmp / "dags"),
            "UPDRAFT__CORE__LOAD_EXAMPLES": "False",
            "UPDRAFT__CORE__PARALLELISM": "32",
            "UPDRAFT__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    os.environ.pop("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", None)

    from sqlalchemy import select, update

    from updraft.core.dag_runs import create_dag_run, latest_serialized
    from updraft.core.db.models import DagModel, DagRun, TaskInstance
    from updraft.core.runtime.dag_test import load_and_store, prepare_engine
    from updraft.core.scheduler.wakeup import notify_scheduler
    from updraft.sdk.states import DagRunType

    engine = prepare_engine()
    load_and_store(engine, None)
    with engine.begin() as conn:
        conn.execute(update(DagModel).values(is_paused=False))
    updraft = str(Path(sys.executable).with_name("updraft"))
    log = open(tmp / "scheduler.log", "wb")  # noqa: SIM115
    scheduler = subprocess.Popen(
        [updraft, "scheduler", "--skip-dag-processor"], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp / "home" / "scheduler.sock").exists():
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise SystemExit(f"the scheduler did not start; see {tmp / 'scheduler.log'}")
            time.sleep(0.05)
        time.sleep(1.0)  # let its workers warm up
        results: dict[str, dict[str, float]] = {}
        chain_runs: list[str] = []
        for dag_id in ("chain100", "fan200"):
            times = []
            for _ in range(args.repeat + 1):
                started = time.perf_counter()
                with engine.begin() as conn:
                    sid, dag = latest_serialized(conn, dag_id)
                    _, run_id = create_dag_run(
                        conn,
                        dag,
                        sid,
                        run_type=DagRunType.MANUAL,
                        logical_date=datetime.now(timezone.utc),
                        triggered_by="bench",
                    )
                notify_scheduler()
                while True:
                    with engine.connect() as conn:
                        state = conn.scalar(
                            select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
                        )
                    if state in ("success", "failed"):
                        break
                    time.sleep(0.005)
                elapsed = time.perf_counter() - started
                if state != "success":
                    raise SystemExit(f"{dag_id} run {run_id} ended {state}; see {tmp}")
                times.append(elapsed)
                if dag_id == "chain100":
                    chain_runs.append(run_id)
            times = times[1:]  # the first run warms the workers' DAG cache
            results[dag_id] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}
        latencies = []
        with engine.connect() as conn:
            for run_id in chain_runs[1:]:
                rows = {
                    r.task_id: r
                    for r in conn.execute(
                        select(TaskInstance.task_id, TaskInstance.start_date, TaskInstance.end_date).where(
                            TaskInstance.dag_id == "chain100", TaskInstance.run_id == run_id
                        )
                    )
                }
                for i in range(99):
                    up, down = rows[f"t{i:03d}"], rows[f"t{i + 1:03d}"]
                    latencies.append((down.start_date - up.end_date).total_seconds() * 1000)
        results["handoff_ms"] = {
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "samples": float(len(latencies)),
        }
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(60)
        log.close()
    print(f"{'shape':<10}{'median s':>10}{'min s':>8}{'max s':>8}")
    for name in ("chain100", "fan200"):
        row = results[name]
        print(f"{name:<10}{row['median_s']:>10.3f}{row['min_s']:>8.3f}{row['max_s']:>8.3f}")
    handoff = results["handoff_ms"]
    print(
        f"hand-off latency: p50 {handoff['p50']:.1f} ms, p95 {handoff['p95']:.1f} ms ({int(handoff['samples'])} edges)"
    )
    goals = [
        ("chain100 <= 1.5 s", results["chain100"]["median_s"] <= 1.5),
        ("fan200 <= 2.5 s", results["fan200"]["median_s"] <= 2.5),
        ("hand-off p50 <= 10 ms", handoff["p50"] <= 10),
        ("hand-off p95 <= 30 ms", handoff["p95"] <= 30),
    ]
    for name, met in goals:
        print(f"goal {name}: {'met' if met else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
