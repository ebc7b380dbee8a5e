"""The real scheduler and local executor, as processes, against SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.scheduler.conftest import Env, wait_for


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted(
        [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
        key=lambda e: (e[0], e[1]),
    )
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def test_manual_run_with_mapping_branching_retries_and_xcom(env: Env, scheduler, tmp_path: Path):
    env.write_dag(
        "flow.py",
        f"""
        from datetime import datetime, timedelta
        from pathlib import Path
        from updraft import DAG, task
        from updraft.operators import BashOperator, BranchPythonOperator, EmptyOperator, PythonOperator

        marker = Path({str(tmp_path / "flaky")!r})

        def flaky():
            if not marker.exists():
                marker.write_text("tried")
                raise RuntimeError("first try fails")
            return "second try works"

        with DAG("flow", start_date=datetime(2024, 1, 1), schedule=None) as dag:
            @task
            def numbers():
                return [1, 2, 3]

            @task
            def square(n):
                return n * n

            @task
            def total(values):
                return sum(values)

            branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "left")
            left = EmptyOperator(task_id="left")
            right = EmptyOperator(task_id="right")
            retry = PythonOperator(task_id="flaky", python_callable=flaky, retries=2, retry_delay=timedelta(seconds=0.2))
            echo = BashOperator(task_id="echo", bash_command="echo {{{{ ti.xcom_pull(task_ids='total') }}}}")
            total(square.expand(n=numbers())) >> echo
            branch >> [left, right]
    """,
    )
    env.store()
    env.unpause("flow")
    process = scheduler()
    run_id = env.trigger("flow")
    assert env.wait_run("flow", run_id) == "success", process.output()
    states = {(t.task_id, t.map_index): (t.state, t.try_number) for t in env.tis("flow", run_id)}
    assert states[("square", 0)] == ("success", 1) and states[("square", 2)] == ("success", 1)
    assert ("square", -1) not in states
    assert states[("left", -1)][0] == "success" and states[("right", -1)][0] == "skipped"
    assert states[("flaky", -1)] == ("success", 2)
    echo = next(t for t in env.tis("flow", run_id) if t.task_id == "echo")
    assert echo.cpu_time_s is not None and echo.cpu_time_s > 0 and echo.peak_rss_bytes > 1_000_000
    log = env.home / "logs" / "dag_id=flow" / f"run_id={run_id}" / "task_id=echo" / "attempt=1.log"
    assert "14" in log.read_text()
    process.stop()


def test_paused_dag_runs_nothing_until_unpaused(env: Env, scheduler):
    env.write_dag(
        "paused.py",
        """
        from datetime import datetime
        from updraft import DAG
        from updraft.operators import EmptyOperator
        with DAG("paused", start_date=datetime(2024, 1, 1), schedule=None):
            EmptyOperator(task_id="t")
    """,
    )
    env.store()
    process = scheduler()
    run_id = env.trigger("paused")
    time.sleep(1.0)
    assert env.run_state("paused", run_id) == "queued"
    env.unpause("paused")
    assert env.wait_run("paused", run_id) == "success"
    process.stop()


def test_cron_catchup_creates_exactly_the_runs_due_across_a_dst_change(env: Env, scheduler, monkeypatch):
    # 02:30 local time does not exist in Berlin on 2024-03-31 (clocks jump 02:00 -> 03:00): like
    # Airflow (pendulum), the tick moves forward by the gap, to 03:30 CEST. The last interval
    # starts before end_date, so it runs too.
    env.write_dag(
        "cron.py",
        """
        from datetime import datetime
        from zoneinfo import ZoneInfo
        from updraft import DAG
        from updraft.operators import EmptyOperator
        berlin = ZoneInfo("Europe/Berlin")
        with DAG("cron", schedule="30 2 * * *", catchup=True, max_active_runs=4,
                 start_date=datetime(2024, 3, 29, tzinfo=berlin), end_date=datetime(2024, 4, 2, 12, tzinfo=berlin)):
            EmptyOperator(task_id="t")
    """,
    )
    monkeypatch.setenv("UPDRAFT__SCHEDULER__CREATE_CRON_DATA_INTERVALS", "True")
    env.store()
    env.unpause("cron")
    process = scheduler(UPDRAFT__SCHEDULER__CREATE_CRON_DATA_INTERVALS="True")
    wait_for(lambda: len([r for r in env.runs("cron") if r.state == "success"]) == 5, 60, what="5 cron runs")
    time.sleep(0.5)
    runs = env.runs("cron")
    berlin = ZoneInfo("Europe/Berlin")
    local = [(r.data_interval_start.astimezone(berlin), r.data_interval_end.astimezone(berlin)) for r in runs]
    assert [(s.strftime("%m-%d %H:%M"), e.strftime("%m-%d %H:%M")) for s, e in local] == [
        ("03-29 02:30", "03-30 02:30"),
        ("03-30 02:30", "03-31 03:30"),
        ("03-31 03:30", "04-01 02:30"),
        ("04-01 02:30", "04-02 02:30"),
        ("04-02 02:30", "04-03 02:30"),
    ]
    # Wall-clock daily: the interval that crosses the change is 23 hours long in UTC.
    assert [(r.data_interval_end - r.data_interval_start).total_seconds() / 3600 for r in runs] == [
        24,
        24,
        23,
        24,
        24,
    ]
    assert all(r.run_type == "scheduled" and r.logical_date == r.data_interval_start for r in runs)
    process.stop()


def test_pool_and_max_active_tasks_are_never_exceeded(env: Env, scheduler):
    env.write_dag(
        "limits.py",
        """
        import time
        from datetime import datetime
        from updraft import DAG
        from updraft.operators import PythonOperator
        with DAG("pooled", start_date=datetime(2024, 1, 1), schedule=None):
            for i in range(6):
                PythonOperator(task_id=f"p{i}", python_callable=lambda: time.sleep(0.3), pool="tiny")
        with DAG("capped", start_date=datetime(2024, 1, 1), schedule=None, max_active_tasks=3):
            for i in range(7):
                PythonOperator(task_id=f"c{i}", python_callable=lambda: time.sleep(0.3))
    """,
    )
    from sqlalchemy import insert

    from updraft.core.db.models import Pool

    with env.engine.begin() as conn:
        conn.execute(
            insert(Pool), {"pool": "tiny", "slots": 2, "description": "test", "include_deferred": False}
        )
    env.store()
    env.unpause("pooled")
    env.unpause("capped")
    process = scheduler()
    pooled, capped = env.trigger("pooled"), env.trigger("capped")
    assert env.wait_run("pooled", pooled) == "success"
    assert env.wait_run("capped", capped) == "success"
    pooled_tis = env.tis("pooled", pooled)
    capped_tis = env.tis("capped", capped)
    assert max_overlap([(t.start_date, t.end_date) for t in pooled_tis]) == 2
    assert max_overlap([(t.start_date, t.end_date) for t in capped_tis]) == 3
    process.stop()


def test_a_killed_task_process_is_retried(env: Env, scheduler, tmp_path: Path):
    pid_file = tmp_path / "pid"
    env.write_dag(
        "victim.py",
        f"""
        import os, time
        from datetime import datetime, timedelta
        from pathlib import Path
        from updraft import DAG
        from updraft.operators import PythonOperator

        def work(ti):
            if ti.try_number == 1:
                Path({str(pid_file)!r}).write_text(str(os.getpid()))
                time.sleep(60)
            return "survived"

        with DAG("victim", start_date=datetime(2024, 1, 1), schedule=None):
            PythonOperator(task_id="work", python_callable=work, retries=1, retry_delay=timedelta(seconds=0.1))
    """,
    )
    env.store()
    env.unpause("victim")
    process = scheduler()
    run_id = env.trigger("victim")
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 30, what="the task's pid"))
    os.kill(pid, signal.SIGKILL)
    assert env.wait_run("victim", run_id) == "success"
    [ti] = env.tis("victim", run_id)
    assert (ti.state, ti.try_number) == ("success", 2)
    first_log = env.home / "logs" / "dag_id=victim" / f"run_id={run_id}" / "task_id=work" / "attempt=1.log"
    assert "killed by SIGKILL" in first_log.read_text()
    process.stop()


def test_execution_timeout_kills_the_task(env: Env, scheduler):
    env.write_dag(
        "slow.py",
        """
        import time
        from datetime import datetime, timedelta
        from updraft import DAG
        from updraft.operators import BashOperator
        with DAG("slow", start_date=datetime(2024, 1, 1), schedule=None):
            BashOperator(task_id="sleepy", bash_command="sleep 30", execution_timeout=timedelta(seconds=0.5))
    """,
    )
    env.store()
    env.unpause("slow")
    process = scheduler()
    run_id = env.trigger("slow")
    started = time.monotonic()
    assert env.wait_run("slow", run_id) == "failed"
    assert time.monotonic() - started < 25
    [ti] = env.tis("slow", run_id)
    assert ti.state == "failed"
    process.stop()


def test_scheduler_killed_mid_run_resumes_and_runs_every_task_exactly_once(
    env: Env, scheduler, tmp_path: Path
):
    ledger = tmp_path / "ledger"
    env.write_dag(
        "ledger.py",
        f"""
        import time
        from datetime import datetime
        from updraft import DAG, chain
        from updraft.operators import PythonOperator

        def record(name):
            time.sleep(0.15)
            with open({str(ledger)!r}, "a") as handle:
                handle.write(name + "\\n")

        with DAG("ledger", start_date=datetime(2024, 1, 1), schedule=None, max_active_tasks=2):
            first = [PythonOperator(task_id=f"a{{i}}", python_callable=record, op_args=[f"a{{i}}"]) for i in range(6)]
            chain(*first)
            for i in range(6):
                first[-1] >> PythonOperator(task_id=f"b{{i}}", python_callable=record, op_args=[f"b{{i}}"])
    """,
    )
    env.store()
    env.unpause("ledger")
    first = scheduler()
    run_id = env.trigger("ledger")
    wait_for(lambda: ledger.exists() and len(ledger.read_text().split()) >= 3, 60, what="three tasks done")
    first.stop(signal.SIGKILL)
    time.sleep(0.3)
    second = scheduler()
    assert env.wait_run("ledger", run_id, timeout=90) == "success", second.output()
    done = ledger.read_text().split()
    assert sorted(done) == sorted([f"a{i}" for i in range(6)] + [f"b{i}" for i in range(6)])
    assert all(t.state == "success" for t in env.tis("ledger", run_id))
    second.stop()


def test_sigterm_stops_running_tasks_so_they_run_again_and_leaves_nothing_running(
    env: Env, scheduler, tmp_path: Path
):
    started = tmp_path / "started"
    env.write_dag(
        "long.py",
        f"""
        import time
        from datetime import datetime
        from pathlib import Path
        from updraft import DAG
        from updraft.operators import PythonOperator

        def long():
            Path({str(started)!r}).write_text("yes")
            time.sleep(60)

        with DAG("long", start_date=datetime(2024, 1, 1), schedule=None):
            PythonOperator(task_id="long", python_callable=long)
    """,
    )
    env.store()
    env.unpause("long")
    process = scheduler(UPDRAFT__SCHEDULER__SHUTDOWN_GRACE_PERIOD="0.5")
    run_id = env.trigger("long")
    wait_for(started.exists, 30, what="the task to start")
    assert process.stop(signal.SIGTERM, timeout=60) == 0
    [ti] = env.tis("long", run_id)
    assert ti.state is None and ti.max_tries == 1  # it will run again, without losing a retry
    assert env.run_state("long", run_id) == "running"


def test_dagrun_timeout_fails_the_run(env: Env, scheduler):
    env.write_dag(
        "timeout_run.py",
        """
        import time
        from datetime import datetime, timedelta
        from updraft import DAG
        from updraft.operators import PythonOperator
        with DAG("timeout_run", start_date=datetime(2024, 1, 1), schedule=None, dagrun_timeout=timedelta(seconds=1)):
            a = PythonOperator(task_id="a", python_callable=lambda: time.sleep(2))
            b = PythonOperator(task_id="b", python_callable=lambda: None)
            a >> b
    """,
    )
    env.store()
    env.unpause("timeout_run")
    process = scheduler()
    run_id = env.trigger("timeout_run", logical_date=datetime.now(timezone.utc) - timedelta(seconds=1))
    assert env.wait_run("timeout_run", run_id) == "failed"
    states = {t.task_id: t.state for t in env.tis("timeout_run", run_id)}
    assert states["b"] == "skipped"
    process.stop()


def test_dag_callbacks_run_in_a_task_process_with_the_reason(env: Env, scheduler, tmp_path: Path):
    record = tmp_path / "callbacks"
    env.write_dag(
        "callbacks.py",
        f"""
        import os
        from datetime import datetime
        from updraft import DAG
        from updraft.operators import PythonOperator

        def note(context):
            with open({str(record)!r}, "a") as handle:
                handle.write(f"{{context['reason']}} {{context['run_id']}} {{os.getpid()}}\\n")

        def boom():
            raise ValueError("boom")

        with DAG("callbacks", start_date=datetime(2024, 1, 1), schedule=None,
                 on_success_callback=note, on_failure_callback=note, params={{"fail": False}}):
            PythonOperator(task_id="maybe", python_callable=lambda params: boom() if params["fail"] else None)
    """,
    )
    env.store()
    env.unpause("callbacks")
    process = scheduler()
    ok = env.trigger("callbacks", logical_date=datetime(2024, 5, 1, tzinfo=timezone.utc))
    bad = env.trigger("callbacks", {"fail": True}, logical_date=datetime(2024, 5, 2, tzinfo=timezone.utc))
    assert env.wait_run("callbacks", ok) == "success"
    assert env.wait_run("callbacks", bad) == "failed"
    lines = wait_for(
        lambda: record.exists() and len(record.read_text().splitlines()) == 2 and record.read_text(), 30
    )
    reasons = sorted(line.split()[:2] for line in lines.splitlines())
    assert reasons == [["success", ok], ["task_failure", bad]]
    assert str(process.proc.pid) not in {line.split()[2] for line in lines.splitlines()}
    process.stop()
