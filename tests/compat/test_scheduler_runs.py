"""Our Airflow-style DAG files through the real scheduler and local executor, states read from the DB."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from croniter import croniter

from tests.compat.conftest import DAGS2, DAGS3
from tests.scheduler.conftest import Env, wait_for

UTC = timezone.utc


def install(env: Env, *files: Path) -> None:
    for path in files:
        shutil.copy(path, env.dags / path.name)
    env.store()


def states_of(env: Env, dag_id: str, run_id: str) -> dict[str, str | None]:
    return {
        (t.task_id if t.map_index < 0 else f"{t.task_id}[{t.map_index}]"): t.state
        for t in env.tis(dag_id, run_id)
    }


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def latest_fire(cron: str, now: datetime) -> datetime:
    return croniter(cron, now).get_prev(datetime)


def test_airflow2_template_dates_of_a_scheduled_run(env: Env, scheduler, scratch: Path):
    install(env, DAGS2 / "a2_scheduled_dates.py")
    env.unpause("a2_scheduled_dates")
    process = scheduler()
    [run] = wait_for(lambda: env.runs("a2_scheduled_dates"), 30, what="the scheduled run")
    assert aware(run.logical_date) == datetime(2024, 3, 10, tzinfo=UTC)
    assert env.wait_run("a2_scheduled_dates", run.run_id) == "success", process.output()
    time.sleep(1)
    assert len(env.runs("a2_scheduled_dates")) == 1  # end_date stops the schedule after one day
    process.stop()
    seen = json.loads((scratch / "a2_scheduled_dates.json").read_text())
    assert seen == {
        "ds": "2024-03-10",
        "ds_nodash": "20240310",
        "execution_date": "2024-03-10T00:00:00+00:00",
        "next_ds": "2024-03-11",
        "next_ds_nodash": "20240311",
        "prev_ds": "2024-03-09",
        "prev_ds_nodash": "20240309",
        "tomorrow_ds": "2024-03-11",
        "tomorrow_ds_nodash": "20240311",
        "yesterday_ds": "2024-03-09",
        "yesterday_ds_nodash": "20240309",
    }


def test_no_catchup_by_default_and_no_schedule_means_never(env: Env, scheduler):
    install(env, DAGS3 / "a3_schedules.py", DAGS2 / "a2_timetables.py")
    scheduled = ["a3_cron", "a3_preset", "a3_delta", "a2_weekday_mornings", "a2_every_six_hours"]
    never = ["a3_none", "a3_no_schedule_argument", "a3_sensors"]
    for dag_id in scheduled + never:
        env.unpause(dag_id)
    before = datetime.now(UTC)
    process = scheduler()
    wait_for(lambda: all(env.runs(d) for d in scheduled), 30, what="a run of every scheduled DAG")
    time.sleep(3)  # time for a backfill, if the scheduler wrongly made one
    after = datetime.now(UTC)
    process.stop()
    runs = {dag_id: env.runs(dag_id) for dag_id in scheduled + never}
    assert {d: len(r) for d, r in runs.items()} == {**dict.fromkeys(scheduled, 1), **dict.fromkeys(never, 0)}
    logical = {d: aware(r[0].logical_date) for d, r in runs.items() if r}
    for dag_id, cron in (
        ("a3_cron", "15 4 * * *"),
        ("a3_preset", "0 * * * *"),
        ("a2_weekday_mornings", "30 6 * * 1-5"),
    ):
        assert logical[dag_id] in {latest_fire(cron, before), latest_fire(cron, after)}, (
            dag_id,
            logical[dag_id],
        )
    for dag_id, delta in (("a3_delta", timedelta(hours=2)), ("a2_every_six_hours", timedelta(hours=6))):
        assert before - delta - timedelta(minutes=1) <= logical[dag_id] <= after + timedelta(minutes=1), (
            dag_id
        )


def test_failures_skips_mapping_and_notifier_through_the_scheduler(env: Env, scheduler, scratch: Path):
    install(env, DAGS2 / "a2_failures.py", DAGS3 / "a3_outcomes.py", DAGS3 / "a3_taskflow.py")
    for dag_id in ("a2_failures", "a3_outcomes", "a3_taskflow"):
        env.unpause(dag_id)
    day = datetime(2024, 3, 6, tzinfo=UTC)
    process = scheduler()
    failures = env.trigger("a2_failures", logical_date=day)
    outcomes = env.trigger("a3_outcomes", logical_date=day)
    flow = env.trigger("a3_taskflow", conf={"factor": 3, "label": "sched"}, logical_date=day)
    assert env.wait_run("a2_failures", failures) == "failed", process.output()
    assert env.wait_run("a3_outcomes", outcomes) == "failed", process.output()
    assert env.wait_run("a3_taskflow", flow) == "success", process.output()
    process.stop()

    assert states_of(env, "a2_failures", failures) == {
        "ok": "success",
        "refuse": "failed",
        "downstream": "upstream_failed",
        "on_failure": "success",
        "always": "success",
        "on_success_only": "success",
        "never": "upstream_failed",
    }
    [refuse] = [t for t in env.tis("a2_failures", failures) if t.task_id == "refuse"]
    assert refuse.try_number == 1
    assert (scratch / "a2_failures_tries.txt").read_text() == "try\n"

    got = states_of(env, "a3_outcomes", outcomes)
    assert {k: v for k, v in got.items() if v != "success"} == {
        "slow_lane": "skipped",
        "after_slow": "skipped",
        "expensive": "skipped",
        "never_ready": "skipped",
        "not_today": "skipped",
        "broken": "failed",
        "publish": "upstream_failed",
        "announce": "skipped",
    }
    assert json.loads((scratch / "notified_broken.json").read_text()) == {
        "task": "broken",
        "message": "a3_outcomes broke on 2024-03-06",
        "dag": "a3_outcomes",
    }

    got = states_of(env, "a3_taskflow", flow)
    assert [k for k in got if k.startswith("scale")] == ["scale[0]", "scale[1]", "scale[2]"]
    assert set(got.values()) == {"success"}


def test_setup_and_teardown_through_the_scheduler(env: Env, scheduler):
    install(env, Path(__file__).parent / "dags_setup_teardown" / "st_dags.py")
    expected = {
        "st_work_fails": ("failed", {"create": "success", "work": "failed", "delete": "success"}),
        "st_teardown_fails": ("success", {"create": "success", "work": "success", "delete": "failed"}),
        "st_setup_fails": ("failed", {"create": "failed", "work": "upstream_failed", "delete": "skipped"}),
    }
    for dag_id in expected:
        env.unpause(dag_id)
    process = scheduler()
    runs = {dag_id: env.trigger(dag_id) for dag_id in expected}
    for dag_id, (run_state, states) in expected.items():
        assert env.wait_run(dag_id, runs[dag_id]) == run_state, process.output()
        assert states_of(env, dag_id, runs[dag_id]) == states
    process.stop()


def test_mapped_task_groups_through_the_scheduler(env: Env, scheduler):
    from tests.compat.test_airflow3_dags import MAPPED_GROUP_STATES

    install(env, DAGS3 / "a3_mapped_groups.py")
    env.unpause("a3_mapped_groups")
    process = scheduler()
    run_id = env.trigger("a3_mapped_groups")
    assert env.wait_run("a3_mapped_groups", run_id) == "success", process.output()
    process.stop()
    assert states_of(env, "a3_mapped_groups", run_id) == MAPPED_GROUP_STATES
