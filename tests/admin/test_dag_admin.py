"""Pause/unpause, trigger, run state and delete of stored DAGs (``updraft.core.dag_admin``)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, insert, select, update

from tests.admin.conftest import ETL_DAG, Admin, at
from updraft.core.dag_admin import (
    DagAdminError,
    DagRunNotFound,
    delete_dag,
    find_dags,
    get_dag_info,
    run_state,
    set_paused,
    trigger_dag,
)
from updraft.core.dag_runs import DagNotStored, DagRunExists
from updraft.core.db.models import (
    DagCode,
    DagModel,
    DagRun,
    DagTag,
    ParseImportError,
    SerializedDagModel,
    TaskInstance,
    TaskInstanceHistory,
    TaskReschedule,
    XCom,
)
from updraft.core.runtime.dag_test import test_dag as run_dag_here
from updraft.sdk.exceptions import ParamValidationError

TWO_DAGS = """
from datetime import datetime, timezone
from updraft import DAG
from updraft.operators import PythonOperator

for name in ("keep", "drop"):
    with DAG(name, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), schedule=None, tags=["t"]):
        PythonOperator(task_id="give", python_callable=lambda: 42)
"""


def test_pause_and_unpause_change_only_what_differs(admin: Admin):
    admin.store(ETL_DAG)
    with admin.engine.begin() as conn:
        assert get_dag_info(conn, "etl").is_paused  # new DAGs start paused (default config)
        assert set_paused(conn, ["etl"], True) == []
        assert set_paused(conn, ["etl"], False) == ["etl"]
        assert not get_dag_info(conn, "etl").is_paused
        assert set_paused(conn, ["etl"], True) == ["etl"]
        with pytest.raises(DagNotStored, match=r"DAG 'nope' is not in the metadata DB.*updraft dags list"):
            find_dags(conn, "nope")


def test_find_dags_by_regex(admin: Admin):
    admin.store(ETL_DAG)
    admin.store(TWO_DAGS, "two.py")
    with admin.engine.connect() as conn:
        assert [d.dag_id for d in find_dags(conn, "^(keep|etl)$", regex=True)] == ["etl", "keep"]
        assert find_dags(conn, "zzz", regex=True) == []
        with pytest.raises(DagAdminError, match="invalid DAG id regex"):
            find_dags(conn, "(", regex=True)


def test_trigger_creates_a_queued_manual_run_with_its_task_instances(admin: Admin):
    admin.store(ETL_DAG)
    before = datetime.now().astimezone()
    with admin.engine.begin() as conn:
        run = trigger_dag(conn, "etl", conf={"n": 5})
    assert run["state"] == "queued" and run["run_type"] == "manual" and run["triggered_by"] == "cli"
    assert run["conf"] == {"n": 5}
    assert run["logical_date"].microsecond == 0
    assert before.replace(microsecond=0) <= run["logical_date"] <= datetime.now().astimezone()
    assert run["run_id"] == f"manual__{run['logical_date'].isoformat()}"
    assert admin.states("etl", run["run_id"]) == dict.fromkeys(
        ["extract", "transform", "load", "notify", "audit"]
    )


def test_trigger_with_run_id_and_logical_date(admin: Admin):
    admin.store(ETL_DAG)
    with admin.engine.begin() as conn:
        run = trigger_dag(conn, "etl", run_id="my_run.1", logical_date=datetime(2024, 5, 1, 6, 30, 0, 123))
        kept = trigger_dag(conn, "etl", logical_date=at(2).replace(microsecond=5), replace_microseconds=False)
    assert (run["run_id"], run["logical_date"]) == ("my_run.1", at(1, 5, hour=6).replace(minute=30))
    assert kept["logical_date"].microsecond == 5


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"conf": {"n": -1}}, ParamValidationError, "'n'"),
        ({"run_id": "has space"}, DagAdminError, "invalid run_id 'has space'"),
        ({"run_id": "a/b"}, DagAdminError, "invalid run_id"),
        ({"run_id": "taken"}, DagRunExists, "already has a run 'taken'"),
        ({"logical_date": at(3)}, DagRunExists, "already has a run"),
    ],
)
def test_bad_trigger_creates_nothing(admin: Admin, kwargs, error, message: str):
    admin.store(ETL_DAG)
    with admin.engine.begin() as conn:
        trigger_dag(conn, "etl", run_id="taken", logical_date=at(3))
    with admin.engine.begin() as conn, pytest.raises(error, match=message):
        trigger_dag(conn, "etl", **kwargs)
    with admin.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(DagRun)) == 1
        assert conn.scalar(select(func.count()).select_from(TaskInstance)) == 5


def test_trigger_unknown_or_inactive_dag(admin: Admin):
    admin.store(ETL_DAG)
    with admin.engine.begin() as conn:
        with pytest.raises(DagNotStored, match="DAG 'nope'"):
            trigger_dag(conn, "nope")
        conn.execute(update(DagModel).values(is_active=False))
        with pytest.raises(DagAdminError, match="DAG 'etl' is no longer active"):
            trigger_dag(conn, "etl")


def test_run_state_by_run_id_or_logical_date(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1), run_state="failed")
    with admin.engine.begin() as conn:
        trigger_dag(conn, "etl", run_id="with_conf", conf={"n": 2}, logical_date=at(9))
        assert run_state(conn, "etl", run_id).state == "failed"
        assert run_state(conn, "etl", "2024-01-01T00:00:00+00:00").run_id == run_id
        assert run_state(conn, "etl", "2024-01-01").run_id == run_id  # naive: the DAG's time zone
        with_conf = run_state(conn, "etl", "with_conf")
        assert (with_conf.state, with_conf.conf) == ("queued", {"n": 2})
        with pytest.raises(DagRunNotFound, match="DAG 'etl' has no run with run_id or logical date 'x'"):
            run_state(conn, "etl", "x")
        with pytest.raises(DagNotStored):
            run_state(conn, "nope", run_id)


def _counts(admin: Admin, dag_id: str) -> dict[str, int]:
    models = (
        DagModel,
        DagTag,
        SerializedDagModel,
        DagRun,
        TaskInstance,
        TaskInstanceHistory,
        XCom,
        TaskReschedule,
    )
    with admin.engine.connect() as conn:
        return {
            m.__tablename__: conn.scalar(select(func.count()).select_from(m).where(m.dag_id == dag_id))
            for m in models
        }


def test_delete_removes_every_row_of_the_dag_and_nothing_else(admin: Admin):
    path = admin.write(TWO_DAGS, "two.py")
    admin.store()
    for dag_id in ("keep", "drop"):
        result = run_dag_here(dag_id, "2024-02-01", dags_folder=str(admin.folder), include_examples=False)
        assert result.state.value == "success"
    with admin.engine.begin() as conn:
        conn.execute(
            insert(TaskReschedule),
            {
                "dag_id": "drop", "run_id": result.run_id, "task_id": "give", "try_number": 1,
                "start_date": at(1), "end_date": at(1), "duration": 0.0, "reschedule_date": at(2),
            },
        )  # fmt: skip
        conn.execute(insert(ParseImportError), {"filename": str(path), "stacktrace": "old error"})
    kept_before = _counts(admin, "keep")
    dropped_before = _counts(admin, "drop")
    assert all(dropped_before.values()), dropped_before
    with admin.engine.begin() as conn:
        assert delete_dag(conn, "drop") == sum(dropped_before.values())
    assert set(_counts(admin, "drop").values()) == {0}
    assert _counts(admin, "keep") == kept_before
    with admin.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ParseImportError)) == 0
        assert conn.scalar(select(func.count()).select_from(DagCode)) == 1  # "keep" shares the file
        with pytest.raises(DagNotStored):
            delete_dag(conn, "drop")
    with admin.engine.begin() as conn:
        delete_dag(conn, "keep")
        assert conn.scalar(select(func.count()).select_from(DagCode)) == 0


def test_delete_is_refused_while_a_task_runs(admin: Admin):
    admin.store(ETL_DAG)
    run_id = admin.make_run("etl", at(1), {"load": "running"}, run_state="running")
    with (
        admin.engine.begin() as conn,
        pytest.raises(DagAdminError, match="DAG 'etl' has running task instances"),
    ):
        delete_dag(conn, "etl")
    assert admin.states("etl", run_id)["load"] == "running"
