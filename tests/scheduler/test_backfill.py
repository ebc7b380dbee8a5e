"""``updraft dags backfill``: the runs of a date range, run here when no scheduler is running."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.scheduler.conftest import UPDRAFT, Env
from tests.scheduler.test_scheduler_runs import max_overlap

DAILY = """
    import time
    from datetime import datetime
    from pathlib import Path
    from updraft import DAG
    from updraft.operators import PythonOperator

    def work(ds):
        time.sleep(0.2)
        flag = Path({flag!r})
        if flag.exists() and ds == "2024-01-02":
            raise RuntimeError("told to fail on " + ds)

    with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False, max_active_runs=4):
        PythonOperator(task_id="work", python_callable=work)
"""


def backfill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [UPDRAFT, "dags", "backfill", "daily", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def test_backfill_runs_every_interval_in_the_range_once(env: Env, tmp_path: Path):
    env.write_dag("daily.py", DAILY.format(flag=str(tmp_path / "fail")))
    dry = backfill("-s", "2024-01-01", "-e", "2024-01-04", "--dry-run")
    assert dry.returncode == 0 and "4 run(s)" in dry.stderr
    assert env.runs("daily") == []
    result = backfill("-s", "2024-01-01", "-e", "2024-01-04", "--max-active-runs", "1")
    assert result.returncode == 0, result.stderr
    runs = env.runs("daily")
    assert [r.run_id for r in runs] == [f"backfill__2024-01-0{d}T00:00:00+00:00" for d in range(1, 5)]
    assert all(r.state == "success" and r.run_type == "backfill" for r in runs)
    assert max_overlap([(r.start_date, r.end_date) for r in runs]) == 1
    # Running it again keeps the existing runs.
    again = backfill("-s", "2024-01-01", "-e", "2024-01-04")
    assert again.returncode == 0 and "kept existing run" in again.stderr
    assert len(env.runs("daily")) == 4


def test_rerun_failed_tasks_and_reset(env: Env, tmp_path: Path):
    flag = tmp_path / "fail"
    flag.write_text("yes")
    env.write_dag("daily.py", DAILY.format(flag=str(flag)))
    first = backfill("-s", "2024-01-01", "-e", "2024-01-03")
    assert first.returncode == 1
    states = {r.run_id[10:20]: r.state for r in env.runs("daily")}
    assert states == {"2024-01-01": "success", "2024-01-02": "failed", "2024-01-03": "success"}
    flag.unlink()
    rerun = backfill("-s", "2024-01-01", "-e", "2024-01-03", "--rerun-failed-tasks")
    assert rerun.returncode == 0, rerun.stderr
    assert all(r.state == "success" for r in env.runs("daily"))
    [work] = [t for t in env.tis("daily") if t.run_id.startswith("backfill__2024-01-02")]
    assert work.try_number == 2
    reset = backfill("-s", "2024-01-01", "-e", "2024-01-01", "--reset-dagruns")
    assert reset.returncode == 0
    [fresh] = [t for t in env.tis("daily") if t.run_id.startswith("backfill__2024-01-01")]
    assert fresh.try_number == 1


def test_bad_range_and_unknown_dag_are_clear_errors(env: Env, tmp_path: Path):
    env.write_dag("daily.py", DAILY.format(flag=str(tmp_path / "fail")))
    reversed_range = backfill("-s", "2024-02-01", "-e", "2024-01-01")
    assert reversed_range.returncode == 2 and "ends" in reversed_range.stderr
    not_a_date = backfill("-s", "yesterday", "-e", "2024-01-01")
    assert not_a_date.returncode == 2 and "--start-date" in not_a_date.stderr
    unknown = subprocess.run(
        [UPDRAFT, "dags", "backfill", "nope", "-s", "2024-01-01", "-e", "2024-01-02"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2 and "'nope'" in unknown.stderr
