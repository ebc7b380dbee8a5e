"""Clearing task instances: selection (regex, relatives, states, dates, run), what a cleared task
instance and its run look like afterwards, and ``updraft tasks clear``."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, update

from tests.admin.conftest import ETL_DAG, TI, Admin, at
from updraft.core.clear import ClearedTI, ClearError, clear_task_instances
from updraft.core.dag_runs import DagNotStored
from updraft.core.db.models import TaskInstanceHistory, TaskReschedule, XCom
from updraft.core.runtime.dag_test import test_dag as run_dag_here

ALL = {"extract", "transform", "load", "notify", "audit"}


def _clear(admin: Admin, **kwargs) -> list[ClearedTI]:
    with admin.engine.begin() as conn:
        return clear_task_instances(conn, "etl", **kwargs)


def _tasks(cleared: list[ClearedTI]) -> set[str]:
    return {ti.task_id for ti in cleared}


def test_regex_clears_matching_task_instances_and_requeues_their_runs(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1), {"transform": "failed", "load": "upstream_failed"}, tries=2)
    with admin.engine.begin() as conn:
        conn.execute(
            update(TI).where(TI.c.task_id == "transform").values(next_retry_at=at(2), reschedule_at=at(2))
        )
    cleared = _clear(admin, task_regex="^trans")
    assert cleared == [ClearedTI("etl", run_id, "transform", -1, "failed")]
    tis = admin.tis("etl", run_id)
    transform = tis["transform"]
    assert transform["state"] is None
    assert transform["try_number"] == 2  # kept: the next attempt is try 3
    assert transform["max_tries"] == 2 + 3  # try_number + retries
    assert transform["next_retry_at"] is None and transform["reschedule_at"] is None
    assert transform["pool"] == "etl_pool"
    assert {t: row["state"] for t, row in tis.items() if t != "transform"} == {
        "extract": "success",
        "load": "upstream_failed",
        "notify": "success",
        "audit": "success",
    }
    run = admin.run("etl", run_id)
    assert run["state"] == "queued"
    assert run["start_date"] is None and run["end_date"] is None and run["queued_at"] is not None


def test_no_regex_clears_every_task_and_max_tries_follows_each_tasks_retries(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1), tries=1)
    assert _tasks(_clear(admin)) == ALL
    tis = admin.tis("etl", run_id)
    assert {t: (row["state"], row["try_number"], row["max_tries"]) for t, row in tis.items()} == {
        "extract": (None, 1, 2),
        "transform": (None, 1, 4),
        "load": (None, 1, 1),
        "notify": (None, 1, 2),
        "audit": (None, 1, 2),
    }


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"task_regex": "transform", "downstream": True}, {"transform", "load", "notify"}),
        ({"task_regex": "load", "upstream": True}, {"load", "transform", "extract"}),
        ({"task_regex": "transform", "upstream": True, "downstream": True}, ALL - {"audit"}),
        ({"task_regex": "^(load|audit)$"}, {"load", "audit"}),
        ({"task_regex": "nothing_matches", "downstream": True}, set()),
        ({"downstream": True}, ALL),  # without a regex every task is selected anyway
    ],
)
def test_relatives_are_added_to_the_matched_tasks(admin: Admin, kwargs, expected: set[str]):
    admin.store(ETL_DAG)
    admin.make_run("etl", at(1))
    assert _tasks(_clear(admin, dry_run=True, **kwargs)) == expected


def test_only_failed_takes_failed_and_upstream_failed(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run(
        "etl", at(1), {"transform": "failed", "load": "upstream_failed", "notify": "skipped"}
    )
    assert _tasks(_clear(admin, only_failed=True)) == {"transform", "load"}
    assert admin.states("etl", run_id) == {
        "extract": "success",
        "transform": None,
        "load": None,
        "notify": "skipped",
        "audit": "success",
    }


def test_only_running_sets_running_task_instances_to_restarting(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run(
        "etl", at(1), {"transform": "running", "load": None, "notify": None}, run_state="running"
    )
    cleared = _clear(admin, only_running=True)
    assert cleared == [ClearedTI("etl", run_id, "transform", -1, "running")]
    transform = admin.tis("etl", run_id)["transform"]
    assert (transform["state"], transform["try_number"], transform["max_tries"]) == ("restarting", 1, 4)
    run = admin.run("etl", run_id)
    assert run["state"] == "running" and run["start_date"] is not None  # a running run is left alone


def test_date_range_and_run_id_select_runs(admin: Admin):
    admin.store(ETL_DAG)
    runs = [admin.make_run("etl", at(day), {"transform": "failed"}) for day in (1, 2, 3, 4)]
    cleared = _clear(admin, task_regex="transform", start_date=at(2), end_date=at(3))
    assert [ti.run_id for ti in cleared] == runs[1:3]  # the range is inclusive, oldest run first
    assert [admin.run("etl", r)["state"] for r in runs] == ["success", "queued", "queued", "success"]
    assert _clear(admin, task_regex="transform", start_date=at(2, hour=1), dry_run=True)[0].run_id == runs[2]
    naive = _clear(admin, task_regex="transform", end_date=at(1).replace(tzinfo=None), dry_run=True)
    assert [ti.run_id for ti in naive] == runs[:1]  # a naive date is in the DAG's time zone (UTC)
    assert [ti.run_id for ti in _clear(admin, run_id=runs[3], task_regex="transform")] == runs[3:]


def test_dry_run_changes_nothing(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1), {"transform": "failed"})
    before, run_before = admin.tis("etl", run_id), admin.run("etl", run_id)
    assert _tasks(_clear(admin, dry_run=True)) == ALL
    assert admin.tis("etl", run_id) == before
    assert admin.run("etl", run_id) == run_before


def test_clearing_keeps_xcoms_and_history_and_deletes_sensor_reschedules(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1), tries=1)
    other = admin.make_run("etl", at(2), tries=1)
    with admin.engine.begin() as conn:
        for rid in (run_id, other):
            conn.execute(
                insert(XCom), {"dag_id": "etl", "run_id": rid, "task_id": "load", "key": "k", "value": "1"}
            )
            conn.execute(
                insert(TaskReschedule),
                {
                    "dag_id": "etl", "run_id": rid, "task_id": "load", "try_number": 1, "start_date": at(1),
                    "end_date": at(1), "duration": 0.0, "reschedule_date": at(2),
                },
            )  # fmt: skip
            conn.execute(
                insert(TaskInstanceHistory),
                {"dag_id": "etl", "run_id": rid, "task_id": "load", "try_number": 1, "state": "success"},
            )
    _clear(admin, task_regex="load", run_id=run_id)
    with admin.engine.connect() as conn:

        def count(model) -> dict[str, int]:
            rows = conn.execute(select(model.run_id, func.count()).group_by(model.run_id)).all()
            return dict(rows)

        assert count(XCom) == {run_id: 1, other: 1}  # the next attempt clears them when it starts
        assert count(TaskInstanceHistory) == {run_id: 1, other: 1}
        assert count(TaskReschedule) == {other: 1}


def test_task_instances_of_tasks_no_longer_in_the_dag_are_not_cleared(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1))
    admin.store(ETL_DAG.replace('    audit = EmptyOperator(task_id="audit")\n', ""))
    assert _tasks(_clear(admin)) == ALL - {"audit"}
    assert admin.states("etl", run_id)["audit"] == "success"


def test_bad_regex_and_unknown_dag_are_clear_errors(admin: Admin):
    admin.store(ETL_DAG)
    with admin.engine.begin() as conn:
        with pytest.raises(ClearError, match=r"invalid task regex '\(': "):
            clear_task_instances(conn, "etl", task_regex="(")
        with pytest.raises(DagNotStored, match="DAG 'nope' is not in the metadata DB"):
            clear_task_instances(conn, "nope")


def test_a_failed_run_made_by_running_tasks_is_cleared_for_a_rerun(admin: Admin):
    admin.write(
        """
        from datetime import datetime, timezone
        from updraft import DAG
        from updraft.operators import PythonOperator

        def boom():
            raise RuntimeError("boom")

        with DAG("real", start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), schedule=None):
            first = PythonOperator(task_id="first", python_callable=lambda: 1)
            second = PythonOperator(task_id="second", python_callable=boom, retries=1, retry_delay=0)
            third = PythonOperator(task_id="third", python_callable=lambda: 3)
            first >> second >> third
        """
    )
    result = run_dag_here("real", "2024-02-01", dags_folder=str(admin.folder), include_examples=False)
    assert result.state.value == "failed"
    with admin.engine.begin() as conn:
        cleared = clear_task_instances(conn, "real", only_failed=True)
    assert {(ti.task_id, ti.state) for ti in cleared} == {("second", "failed"), ("third", "upstream_failed")}
    tis = admin.tis("real", result.run_id)
    assert {t: (r["state"], r["try_number"], r["max_tries"]) for t, r in tis.items()} == {
        "first": ("success", 1, 0),
        "second": (None, 2, 3),
        "third": (None, 0, 0),
    }
    assert admin.run("real", result.run_id)["state"] == "queued"


def test_tasks_clear_cli(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1), {"transform": "failed", "load": "upstream_failed"})
    args = ("tasks", "clear", "etl", "-t", "transform", "-d", "-f")
    declined = admin.cli(*args, stdin="n\n")
    assert declined.returncode == 0, declined.stderr
    assert "You are about to clear these 2 task instance(s):" in declined.stdout
    assert f"<TaskInstance: etl.transform {run_id} [failed]>" in declined.stdout
    assert "Cancelled, nothing was cleared." in declined.stdout
    assert admin.states("etl", run_id)["transform"] == "failed"

    confirmed = admin.cli(*args, stdin="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "Cleared 2 task instance(s) in 1 run(s) of DAG etl" in confirmed.stdout
    assert admin.states("etl", run_id) == {
        "extract": "success", "transform": None, "load": None, "notify": "success", "audit": "success",
    }  # fmt: skip
    assert admin.run("etl", run_id)["state"] == "queued"
    again = admin.cli(*args, "-y")
    assert again.returncode == 0 and again.stdout.strip() == "Nothing to clear."
    dated = admin.cli(
        "tasks", "clear", "etl", "-s", "2024-01-01", "-e", "2024-01-01T00:00:00Z", "-t", "audit", "-y"
    )
    assert dated.returncode == 0 and "Cleared 1 task instance(s)" in dated.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tasks", "clear", "nope", "-y"), "DAG 'nope' is not in the metadata DB"),
        (("tasks", "clear", "etl", "-t", "(", "-y"), "invalid task regex '('"),
        (("tasks", "clear", "etl", "-s", "yesterday", "-y"), "invalid date 'yesterday'"),
    ],
)
def test_tasks_clear_cli_bad_input_exits_2(admin: Admin, args: tuple[str, ...], message: str):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1), {"transform": "failed"})
    result = admin.cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert admin.states("etl", run_id)["transform"] == "failed"
    assert admin.run("etl", run_id)["state"] == "success"
