"""Time the DAG processor: one full pass over many small DAG files into a fresh metadata DB, then a
second pass with nothing changed (a hash check of every file, no parsing).

Each generated file defines one DAG of 3-5 tasks (Bash, Python and Empty operators; every tenth
file uses TaskFlow). Goal: 1,000 files in <= 20 s on a 2-core machine.

Usage: python benchmarks/parse_files.py [--files N] [--processes N] [--db-url URL] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

CLASSIC = """
from datetime import datetime
from updraft import DAG
from updraft.operators import BashOperator, EmptyOperator, PythonOperator


def work(n):
    return n * 2


with DAG("bench_{i}", start_date=datetime(2024, 1, 1), schedule="@daily", tags=["bench"]) as dag:
    start = EmptyOperator(task_id="start")
    tasks = [BashOperator(task_id=f"bash_{{k}}", bash_command=f"echo {{k}}") for k in range({n_bash})]
    py = PythonOperator(task_id="python", python_callable=work, op_args=[{i}])
    start >> tasks >> py
"""

TASKFLOW = """
from datetime import datetime
from updraft import dag, task


@dag(dag_id="bench_{i}", start_date=datetime(2024, 1, 1), schedule=None)
def pipeline():
    @task
    def extract():
        return {{"n": {i}}}

    @task
    def transform(data):
        return data["n"] + 1

    @task
    def load(value):
        print(value)

    load(transform(extract()))


pipeline()
"""


def write_files(folder: Path, count: int) -> None:
    for i in range(count):
        text = TASKFLOW.format(i=i) if i % 10 == 9 else CLASSIC.format(i=i, n_bash=1 + i % 3)
        sub = folder / f"group_{i // 100:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"dag_{i:04d}.py").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=None, help="dag_processor.parsing_processes")
    parser.add_argument(
        "--db-url", default=None, help="an empty database (default: a new SQLite file in a temp dir)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="updraft-parse-bench-") as tmp:
        home, dags = Path(tmp) / "home", Path(tmp) / "dags"
        home.mkdir()
        dags.mkdir()
        os.environ["UPDRAFT_HOME"] = str(home)
        os.environ["UPDRAFT__DATABASE__SQL_ALCHEMY_CONN"] = args.db_url or f"sqlite:///{home / 'bench.db'}"
        os.environ["UPDRAFT__CORE__DAGS_FOLDER"] = str(dags)
        os.environ["UPDRAFT__CORE__LOAD_EXAMPLES"] = "False"
        if args.processes is not None:
            os.environ["UPDRAFT__DAG_PROCESSOR__PARSING_PROCESSES"] = str(args.processes)
        write_files(dags, args.files)

        from updraft.core.dag_processing import DagProcessorManager
        from updraft.core.db.engine import get_engine
        from updraft.core.db.migrate import ensure_schema

        engine = get_engine()
        ensure_schema(engine)
        manager = DagProcessorManager([dags], engine=engine)

        first = manager.run_once()
        second = manager.run_once()

    rate = first.parsed / first.duration if first.duration else 0.0
    print(f"files:        {first.files} ({first.dags} DAGs, {first.errors} import errors)")
    print(
        f"first pass:   {first.duration:.2f} s, {rate:.0f} files/s ({manager.pool.max_processes} processes)"
    )
    print(f"second pass:  {second.duration * 1000:.0f} ms, {second.parsed} files parsed (hash check only)")
    goal = 20.0 * args.files / 1000
    verdict = "OK" if first.duration <= goal else "SLOWER THAN GOAL"
    print(f"goal:         <= {goal:.1f} s for {args.files} files: {verdict}")
    if args.json is not None:
        numbers = {
            "files": first.files,
            "dags": first.dags,
            "errors": first.errors,
            "first_pass_s": round(first.duration, 3),
            "files_per_s": round(rate, 1),
            "second_pass_s": round(second.duration, 4),
            "processes": manager.pool.max_processes,
        }
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")
    sys.exit(0 if first.errors == 0 else 1)


if __name__ == "__main__":
    main()
