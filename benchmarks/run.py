"""`make bench`: time `updraft dags test` as a user runs it (the whole command, process start
included) on three DAG shapes, and report the median wall time and the per-task overhead.

Per-task overhead = (median(shape) - median(one-task DAG)) / (tasks - 1): what each extra task
costs beyond the fixed start-up (interpreter, imports, DB, parsing).

Usage: python benchmarks/run.py [--repeat N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {
    "chain1": ("chain", 1),
    "chain100": ("chain", 100),
    "fan200": ("fan", 200),
    "xcom_chain50": ("xcom", 50),
}

DAG_TEMPLATE = """
from datetime import datetime
from updraft import DAG, task
from updraft.operators import PythonOperator

def noop():
    pass

with DAG("{dag_id}", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    kind, size = "{kind}", {size}
    if kind == "chain":
        previous = None
        for i in range(size):
            current = PythonOperator(task_id=f"t{{i}}", python_callable=noop)
            if previous is not None:
                previous >> current
            previous = current
    elif kind == "fan":
        first = PythonOperator(task_id="first", python_callable=noop)
        last = PythonOperator(task_id="last", python_callable=noop)
        for i in range(size):
            first >> PythonOperator(task_id=f"t{{i}}", python_callable=noop) >> last
    else:
        @task
        def start():
            return 0

        @task
        def step(value: int) -> int:
            return value + 1

        value = start()
        for i in range(size - 1):
            value = step.override(task_id=f"step{{i}}")(value)
"""


def task_count(kind: str, size: int) -> int:
    return size + 2 if kind == "fan" else size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()
    updraft = str(Path(sys.executable).with_name("updraft"))
    with tempfile.TemporaryDirectory(prefix="updraft-bench-") as tmp:
        dags = Path(tmp) / "dags"
        dags.mkdir()
        for dag_id, (kind, size) in SHAPES.items():
            (dags / f"{dag_id}.py").write_text(DAG_TEMPLATE.format(dag_id=dag_id, kind=kind, size=size))
        env = {**os.environ, "UPDRAFT_HOME": str(Path(tmp) / "home"), "UPDRAFT__CORE__LOAD_EXAMPLES": "False"}
        env.pop("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN", None)
        results: dict[str, dict[str, float]] = {}
        for dag_id, (kind, size) in SHAPES.items():
            command = [updraft, "dags", "test", dag_id, "2024-01-01", "-S", str(dags), "-o", "json"]
            subprocess.run(command, env=env, check=True, capture_output=True)  # warm-up: .pyc, DB schema
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                subprocess.run(command, env=env, check=True, capture_output=True)
                times.append(time.perf_counter() - started)
            results[dag_id] = {
                "tasks": task_count(kind, size),
                "median_s": statistics.median(times),
                "min_s": min(times),
                "max_s": max(times),
            }
    base = results["chain1"]["median_s"]
    print(f"{'shape':<14}{'tasks':>6}{'median s':>10}{'min s':>8}{'per-task ms':>13}")
    for dag_id, row in results.items():
        tasks = int(row["tasks"])
        per_task = (row["median_s"] - base) / (tasks - 1) * 1000 if tasks > 1 else float("nan")
        row["per_task_overhead_ms"] = per_task
        print(f"{dag_id:<14}{tasks:>6}{row['median_s']:>10.3f}{row['min_s']:>8.3f}{per_task:>13.2f}")
    goals = [
        ("chain100 whole command <= 0.6 s", results["chain100"]["median_s"] <= 0.6),
        ("chain100 per-task overhead <= 2 ms", results["chain100"]["per_task_overhead_ms"] <= 2.0),
    ]
    for name, met in goals:
        print(f"goal {name}: {'met' if met else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
