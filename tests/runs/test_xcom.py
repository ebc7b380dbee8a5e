"""XComs in real runs: return values, push/pull, typed values, limits and multiple_outputs."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.runs.conftest import RUN_ID, Runs
from updraft.core.db.models import XCom


def test_return_values_and_push_pull(runs: Runs) -> None:
    result = runs.run(
        "xc",
        body="""
    with DAG("xc", start_date=START, schedule=None) as dag:
        def first(ti, **_):
            ti.xcom_push(key="extra", value={"n": 1})
            return "one"

        def second(ti, **_):
            return "two"

        def third(ti, **_):
            return None  # pushes nothing

        def pull(ti, **_):
            touch("pulled", repr([
                ti.xcom_pull(task_ids="first"),
                ti.xcom_pull(task_ids="first", key="extra"),
                ti.xcom_pull(task_ids=["second", "first"]),
                ti.xcom_pull(task_ids=["first", "second"], key="extra"),
                ti.xcom_pull(task_ids="third", default="dflt"),
                ti.xcom_pull(task_ids="first", key="nope", default="dflt"),
                ti.xcom_pull(key="mine"),
            ]))

        def push_own_then_pull(ti, **_):
            ti.xcom_push(key="mine", value=[1, 2])
            return ti.xcom_pull(key="mine")

        tasks = [PythonOperator(task_id=f.__name__, python_callable=f) for f in (first, second, third)]
        own = PythonOperator(task_id="push_own_then_pull", python_callable=push_own_then_pull)
        tasks >> PythonOperator(task_id="pull", python_callable=pull)
    """,
    )
    assert result.state == "success"
    assert (
        runs.scratch_text("pulled")
        == repr(["one", {"n": 1}, ["two", "one"], [{"n": 1}], "dflt", "dflt", None]) + "\n"
    )
    assert runs.xcoms("xc") == {
        ("first", -1, "return_value"): "one",
        ("first", -1, "extra"): {"n": 1},
        ("second", -1, "return_value"): "two",
        ("push_own_then_pull", -1, "mine"): [1, 2],
        ("push_own_then_pull", -1, "return_value"): [1, 2],
    }


def test_templates_and_operator_arguments_pull_xcoms(runs: Runs) -> None:
    runs.run(
        "xt",
        body="""
    with DAG("xt", start_date=START, schedule=None) as dag:
        make = PythonOperator(task_id="make", python_callable=lambda: {"path": "/data/x.csv"})
        use = BashOperator(task_id="use", bash_command="echo {{ ti.xcom_pull(task_ids='make')['path'] }}")
        arg = PythonOperator(task_id="arg", python_callable=lambda p: p["path"].upper(),
                             op_args=[make.output])
        make >> use
    """,
    )
    xcoms = runs.xcoms("xt")
    assert xcoms[("use", -1, "return_value")] == "/data/x.csv"
    assert xcoms[("arg", -1, "return_value")] == "/DATA/X.CSV"
    assert runs.tis("xt")["arg"].rendered_fields["op_args"] == [{"path": "/data/x.csv"}]


TYPED_VALUES = """
import datetime as dt, uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

VALUES = {
    "aware": dt.datetime(2024, 3, 5, 6, 7, 8, 123456, tzinfo=ZoneInfo("Europe/Paris")),
    "naive": dt.datetime(2024, 3, 5, 6, 7, 8),
    "date": dt.date(2024, 2, 29),
    "delta": dt.timedelta(days=1, seconds=3, microseconds=7),
    "decimal": Decimal("12.3450"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "tuple": (1, "a", (2, 3)),
    "set": {1, 2, 3},
    "bytes": b"\\x00\\xffbinary",
    "tuple_keys": {(1, "a"): "x", (2, "b"): ["y"]},
    "nested": [{"when": dt.date(2024, 1, 1)}, None, 1.5, True],
}
"""


def test_typed_values_round_trip_between_tasks(runs: Runs) -> None:
    result = runs.run(
        "typed",
        prelude=TYPED_VALUES,
        body="""
    with DAG("typed", start_date=START, schedule=None) as dag:
        @task
        def produce():
            return VALUES

        @task
        def consume(values):
            for key, expected in VALUES.items():
                got = values[key]
                assert got == expected and type(got) is type(expected), (key, got)
            assert values["aware"].tzinfo == ZoneInfo("Europe/Paris")
            assert values["naive"].tzinfo is None
            touch("checked", ",".join(sorted(values)))

        consume(produce())
    """,
    )
    assert result.state == "success", [r.error for r in result.records]
    assert runs.scratch_text("checked").strip().split(",") == sorted(
        [
            "aware",
            "naive",
            "date",
            "delta",
            "decimal",
            "uuid",
            "tuple",
            "set",
            "bytes",
            "tuple_keys",
            "nested",
        ]
    )
    stored = runs.xcoms("typed")[("produce", -1, "return_value")]
    assert stored["aware"] == dt.datetime(2024, 3, 5, 6, 7, 8, 123456, tzinfo=ZoneInfo("Europe/Paris"))
    assert stored["decimal"] == Decimal("12.3450") and str(stored["decimal"]) == "12.3450"
    assert stored["uuid"] == uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert stored["tuple_keys"] == {(1, "a"): "x", (2, "b"): ["y"]}
    assert stored["bytes"] == b"\x00\xffbinary"


def test_an_unstorable_value_fails_the_task_naming_the_type(runs: Runs) -> None:
    result = runs.run(
        "bad_value",
        body="""
    import threading
    with DAG("bad_value", start_date=START, schedule=None) as dag:
        @task
        def returns_lock():
            return {"ok": 1, "lock": threading.Lock()}

        @task
        def pushes_lock(ti=None):
            ti.xcom_push(key="k", value=threading.Lock())

        @task
        def after(x):
            pass

        after(returns_lock())
        pushes_lock()
    """,
    )
    assert runs.states("bad_value") == {
        "returns_lock": "failed",
        "pushes_lock": "failed",
        "after": "upstream_failed",
    }
    for task_id in ("returns_lock", "pushes_lock"):
        error = runs.history("bad_value", task_id)[0]["error"]
        assert error.startswith("XComValueError: "), error
        assert "'lock'" in error, error  # the type, e.g. 'lock' (_thread.lock)
    assert runs.xcoms("bad_value") == {}
    assert result.state == "failed"


def test_the_xcom_size_limit_gives_a_clear_error(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT__CORE__XCOM_MAX_SIZE_BYTES", "100")
    runs.run(
        "big",
        body="""
    with DAG("big", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="small", python_callable=lambda: "x" * 50)
        PythonOperator(task_id="large", python_callable=lambda: "x" * 500)
    """,
    )
    assert runs.states("big") == {"small": "success", "large": "failed"}
    error = runs.history("big", "large")[0]["error"]
    assert "502 bytes" in error and "xcom_max_size_bytes" in error and "100" in error
    assert set(runs.xcoms("big")) == {("small", -1, "return_value")}


def test_multiple_outputs(runs: Runs) -> None:
    result = runs.run(
        "multi",
        body="""
    with DAG("multi", start_date=START, schedule=None) as dag:
        @task(multiple_outputs=True)
        def split():
            return {"left": 1, "right": [2, 3]}

        @task
        def inferred() -> dict[str, int]:
            return {"n": 5}

        @task
        def combine(left, right, n):
            return left + sum(right) + n

        parts = split()
        combine(parts["left"], parts["right"], inferred()["n"])
    """,
    )
    assert result.state == "success"
    xcoms = runs.xcoms("multi")
    assert {k: v for k, v in xcoms.items() if k[0] == "split"} == {
        ("split", -1, "left"): 1,
        ("split", -1, "right"): [2, 3],
        ("split", -1, "return_value"): {"left": 1, "right": [2, 3]},
    }
    assert xcoms[("inferred", -1, "n")] == 5
    assert xcoms[("combine", -1, "return_value")] == 11


def test_multiple_outputs_needs_a_dict_with_string_keys(runs: Runs) -> None:
    runs.run(
        "multi",
        body="""
    with DAG("multi", start_date=START, schedule=None) as dag:
        @task(multiple_outputs=True)
        def not_a_dict():
            return [1, 2]

        @task(multiple_outputs=True)
        def int_keys():
            return {1: "a"}

        not_a_dict()
        int_keys()
    """,
    )
    assert runs.states("multi") == {"not_a_dict": "failed", "int_keys": "failed"}
    assert "returned a list, not a dict" in runs.history("multi", "not_a_dict")[0]["error"]
    assert "must be strings" in runs.history("multi", "int_keys")[0]["error"]


def test_do_xcom_push_false_stores_nothing(runs: Runs) -> None:
    runs.run(
        "quiet",
        body="""
    with DAG("quiet", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="t", python_callable=lambda: "value", do_xcom_push=False)
    """,
    )
    assert runs.xcoms("quiet") == {}


def test_xcoms_pushed_before_a_failure_are_kept_and_cleared_on_the_next_try(runs: Runs) -> None:
    """As Airflow: ti.xcom_push stores at once, so a downstream of a failed task can read what it
    pushed; a new try starts with the task instance's XComs cleared."""
    runs.run(
        "partial",
        body="""
    with DAG("partial", start_date=START, schedule=None) as dag:
        def work(ti, **_):
            ti.xcom_push(key=f"try_{ti.try_number}", value=ti.try_number)
            raise RuntimeError("after pushing")

        t = PythonOperator(task_id="t", python_callable=work, retries=1, retry_delay=0)
        report = PythonOperator(
            task_id="report", trigger_rule="all_failed",
            python_callable=lambda ti: touch("report", repr(ti.xcom_pull(task_ids="t", key="try_2"))),
        )
        t >> report
    """,
    )
    assert runs.states("partial") == {"t": "failed", "report": "success"}
    assert runs.xcoms("partial") == {("t", -1, "try_2"): 2}
    assert runs.scratch_text("report") == "2\n"


def test_xcom_rows_are_deleted_with_their_run(runs: Runs) -> None:
    """Running the same logical date again replaces the earlier run and its XComs."""
    body = """
    with DAG("again", start_date=START, schedule=None) as dag:
        PythonOperator(task_id="t", python_callable=lambda: {value!r})
    """
    runs.run("again", body.format(value="first"))
    runs.run("again", body.format(value="second"))
    with runs.engine.connect() as conn:
        values = conn.execute(select(XCom.value).where(XCom.dag_id == "again", XCom.run_id == RUN_ID)).all()
    assert [row[0] for row in values] == ['"second"']
    assert len(runs.dag_runs("again")) == 1


def test_bash_task_with_multiple_outputs_pushes_one_xcom_per_key(runs: Runs) -> None:
    result = runs.run(
        "bash_keys",
        """
    import json

    with DAG("bash_keys", start_date=START, schedule=None) as dag:
        @task.bash(multiple_outputs=True, output_processor=json.loads)
        def describe() -> str:
            return 'echo noise; printf \\'{"rows": 3, "table": "t_{{ ds_nodash }}"}\\\\n\\''

        @task
        def use(rows, table):
            return f"{table}:{rows}"

        out = describe()
        use(out["rows"], out["table"])
    """,
    )
    assert result.state == "success"
    xcoms = runs.xcoms("bash_keys")
    assert xcoms[("describe", -1, "rows")] == 3
    assert xcoms[("describe", -1, "table")] == "t_20240305"
    assert xcoms[("use", -1, "return_value")] == "t_20240305:3"
