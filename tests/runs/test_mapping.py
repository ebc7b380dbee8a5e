"""Dynamic task mapping in real runs: expand, expand_kwargs, partial, limits and failure handling."""

from __future__ import annotations

import pytest

from tests.runs.conftest import Runs


def _mapped(runs: Runs, dag_id: str, task_id: str) -> list[object]:
    """The return values of a mapped task's instances, in map_index order."""
    xcoms = runs.xcoms(dag_id)
    indexes = sorted(i for (t, i, k) in xcoms if t == task_id and k == "return_value")
    return [xcoms[(task_id, i, "return_value")] for i in indexes]


def test_expand_over_literals_with_a_classic_operator(runs: Runs) -> None:
    result = runs.run(
        "literal",
        """
    with DAG("literal", start_date=START, schedule=None) as dag:
        PythonOperator.partial(task_id="square", python_callable=lambda x: x * x).expand(
            op_args=[[1], [2], [3]]
        )
        BashOperator.partial(task_id="say", env={"WHO": "me"}).expand(
            bash_command=["echo a $WHO", "echo b $WHO"]
        )
    """,
    )
    assert result.state == "success"
    assert runs.states("literal") == {
        "square[0]": "success",
        "square[1]": "success",
        "square[2]": "success",
        "say[0]": "success",
        "say[1]": "success",
    }
    assert _mapped(runs, "literal", "square") == [1, 4, 9]
    assert _mapped(runs, "literal", "say") == ["a me", "b me"]
    # The placeholder (map_index -1) is replaced by the expanded instances.
    assert "square" not in runs.tis("literal")


def test_expand_over_an_upstream_xcom_and_collect_in_map_index_order(runs: Runs) -> None:
    result = runs.run(
        "upstream",
        """
    with DAG("upstream", start_date=START, schedule=None) as dag:
        @task
        def numbers():
            return list(range(12))

        @task
        def double(x):
            return x * 2

        @task
        def collect(values):
            return list(values)

        collect(double.expand(x=numbers()))
    """,
    )
    assert result.state == "success"
    expected = [x * 2 for x in range(12)]
    assert _mapped(runs, "upstream", "double") == expected
    # Index 10 comes after 9: the downstream gets every result in map_index order.
    assert runs.xcoms("upstream")[("collect", -1, "return_value")] == expected
    tis = runs.tis("upstream")
    assert sorted(ti.map_index for ti in tis.values() if ti.task_id == "double") == list(range(12))


def test_expand_over_a_dict_gives_key_value_pairs(runs: Runs) -> None:
    runs.run(
        "pairs",
        """
    with DAG("pairs", start_date=START, schedule=None) as dag:
        @task
        def config():
            return {"a": 1, "b": 2}

        @task
        def show(pair):
            key, value = pair
            return f"{key}={value}"

        show.expand(pair=config())
    """,
    )
    assert _mapped(runs, "pairs", "show") == ["a=1", "b=2"]


def test_two_expand_arguments_give_the_cross_product(runs: Runs) -> None:
    runs.run(
        "cross",
        """
    with DAG("cross", start_date=START, schedule=None) as dag:
        @task
        def add(x, y):
            return f"{x}+{y}"

        add.expand(x=[1, 2], y=["a", "b", "c"])
    """,
    )
    assert _mapped(runs, "cross", "add") == ["1+a", "1+b", "1+c", "2+a", "2+b", "2+c"]


def test_partial_arguments_are_shared_by_every_instance(runs: Runs) -> None:
    runs.run(
        "partial",
        """
    with DAG("partial", start_date=START, schedule=None) as dag:
        @task
        def scale(x, factor, offset=0):
            return x * factor + offset

        scale.partial(factor=10, offset=1).expand(x=[1, 2, 3])
        PythonOperator.partial(task_id="classic", python_callable=lambda x, y: x - y,
                               op_kwargs={"y": 1}, retries=2).expand(op_args=[[5], [7]])
    """,
    )
    assert _mapped(runs, "partial", "scale") == [11, 21, 31]
    assert _mapped(runs, "partial", "classic") == [4, 6]
    assert {ti.max_tries for ti in runs.tis("partial").values() if ti.task_id == "classic"} == {2}


def test_expand_kwargs_over_literals_and_over_an_xcom(runs: Runs) -> None:
    runs.run(
        "kwargs",
        """
    with DAG("kwargs", start_date=START, schedule=None) as dag:
        @task
        def pairs():
            return [{"x": 1, "y": 2}, {"x": 3, "y": 4}]

        @task
        def add(x, y):
            return x + y

        add.override(task_id="from_xcom").expand_kwargs(pairs())
        BashOperator.partial(task_id="bash").expand_kwargs([
            {"bash_command": "echo $V", "env": {"V": "one"}},
            {"bash_command": "echo $V-$V", "env": {"V": "two"}},
        ])
    """,
    )
    assert _mapped(runs, "kwargs", "from_xcom") == [3, 7]
    assert _mapped(runs, "kwargs", "bash") == ["one", "two-two"]


def test_mapped_instances_see_their_map_index_and_pull_by_map_index(runs: Runs) -> None:
    runs.run(
        "indexes",
        """
    with DAG("indexes", start_date=START, schedule=None) as dag:
        @task
        def tag(x, ti=None):
            ti.xcom_push(key="seen", value=f"{ti.map_index}:{x}")
            return x

        @task
        def pick(ti=None):
            return [
                ti.xcom_pull(task_ids="tag", map_indexes=1),
                ti.xcom_pull(task_ids="tag", map_indexes=[2, 0]),
                ti.xcom_pull(task_ids="tag", key="seen"),
                ti.xcom_pull(task_ids="tag"),
            ]

        tag.expand(x=["a", "b", "c"]) >> pick()
    """,
    )
    assert runs.xcoms("indexes")[("pick", -1, "return_value")] == [
        "b",
        ["a", "c"],
        ["0:a", "1:b", "2:c"],
        ["a", "b", "c"],
    ]


def test_an_empty_expansion_skips_the_mapped_task_and_its_downstream(runs: Runs) -> None:
    result = runs.run(
        "empty",
        """
    with DAG("empty", start_date=START, schedule=None) as dag:
        @task
        def nothing():
            return []

        @task
        def each(x):
            touch("ran")

        @task
        def after(values):
            touch("after")

        @task(trigger_rule="all_done")
        def always_after():
            touch("always_after")

        mapped = each.expand(x=nothing())
        after(mapped)
        mapped >> always_after()
        each.override(task_id="literal_empty").expand(x=[])
    """,
    )
    assert runs.states("empty") == {
        "nothing": "success",
        "each": "skipped",
        "after": "skipped",
        "always_after": "success",
        "literal_empty": "skipped",
    }
    assert runs.scratch_text("ran") == runs.scratch_text("after") == ""
    assert result.state == "success"


def test_max_map_length_fails_the_producer_with_a_clear_message(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPDRAFT__CORE__MAX_MAP_LENGTH", "3")
    result = runs.run(
        "limit",
        """
    with DAG("limit", start_date=START, schedule=None) as dag:
        @task
        def many():
            return [1, 2, 3, 4, 5]

        @task
        def each(x):
            return x

        @task
        def pair(x, y):
            return (x, y)

        each.expand(x=many())
        each.override(task_id="literal").expand(x=[1, 2, 3, 4])
        fits = each.override(task_id="fits").expand(x=[1, 2, 3])
        pair.expand(x=fits, y=[1, 2])  # 3 x 2 instances: over the limit
    """,
    )
    states = runs.states("limit")
    assert {k: v for k, v in states.items() if not k.startswith("fits")} == {
        "many": "failed",
        "each": "upstream_failed",
        "literal": "failed",
        "pair": "failed",
    }
    assert [states[f"fits[{i}]"] for i in range(3)] == ["success"] * 3
    assert "6" in {r.task_id: r.error for r in result.records}["pair"]
    producer = runs.history("limit", "many")[0]["error"]
    assert "5" in producer and "max_map_length" in producer and "'each'" in producer
    # The failed producer pushed nothing for the mapped task to read.
    assert ("many", -1, "return_value") not in runs.xcoms("limit")
    literal = {r.task_id: r.error for r in result.records}["literal"]
    assert "4" in literal and "max_map_length" in literal and "'literal'" in literal
    assert result.state == "failed"


def test_a_producer_returning_something_unmappable_fails(runs: Runs) -> None:
    runs.run(
        "unmappable",
        """
    with DAG("unmappable", start_date=START, schedule=None) as dag:
        @task
        def scalar():
            return 42

        @task
        def each(x):
            return x

        each.expand(x=scalar())
    """,
    )
    assert runs.states("unmappable") == {"scalar": "failed", "each": "upstream_failed"}
    assert "returned a int" in runs.history("unmappable", "scalar")[0]["error"]


def test_a_failed_mapped_instance_fails_the_downstream(runs: Runs) -> None:
    result = runs.run(
        "partfail",
        """
    with DAG("partfail", start_date=START, schedule=None) as dag:
        @task(retries=1, retry_delay=0)
        def check(x, ti=None):
            touch("tries", f"{ti.map_index}:{ti.try_number}")
            if x == "bad":
                raise ValueError(f"bad item at {ti.map_index}")
            return x

        @task
        def collect(values):
            return list(values)

        @task(trigger_rule="all_done")
        def report(ti=None):
            return ti.xcom_pull(task_ids="check")

        checked = check.expand(x=["ok", "bad", "fine"])
        collect(checked)
        checked >> report()
    """,
    )
    assert runs.states("partfail") == {
        "check[0]": "success",
        "check[1]": "failed",
        "check[2]": "success",
        "collect": "upstream_failed",
        "report": "success",
    }
    assert sorted(runs.scratch_text("tries").split()) == ["0:1", "1:1", "1:2", "2:1"]
    assert [h["state"] for h in runs.history("partfail", "check", map_index=1)] == ["up_for_retry", "failed"]
    assert runs.history("partfail", "check", map_index=1)[-1]["error"] == "ValueError: bad item at 1"
    assert runs.xcoms("partfail")[("report", -1, "return_value")] == ["ok", "fine"]
    assert result.state == "failed"


def test_mapping_over_a_skipped_upstream_skips(runs: Runs) -> None:
    runs.run(
        "skipsrc",
        """
    with DAG("skipsrc", start_date=START, schedule=None) as dag:
        @task
        def source():
            raise UpdraftSkipException()

        @task
        def each(x):
            return x

        each.expand(x=source())
    """,
    )
    assert runs.states("skipsrc") == {"source": "skipped", "each": "skipped"}


def test_mapping_over_the_results_of_a_mapped_task(runs: Runs) -> None:
    """Each instance of the first mapped task returns one value; the second maps over all of them."""
    result = runs.run(
        "chained",
        """
    with DAG("chained", start_date=START, schedule=None) as dag:
        @task
        def add_one(x):
            return x + 1

        @task
        def double(x):
            return x * 2

        double.expand(x=add_one.expand(x=[1, 2, 3]))
    """,
    )
    assert result.state == "success", [r.error for r in result.records]
    assert _mapped(runs, "chained", "add_one") == [2, 3, 4]
    assert _mapped(runs, "chained", "double") == [4, 6, 8]


def test_mapped_values_and_partial_arguments_are_rendered_as_templates(runs: Runs) -> None:
    runs.run(
        "rendered",
        """
    with DAG("rendered", start_date=START, schedule=None, params={"who": "me"}) as dag:
        BashOperator.partial(task_id="say", env={"DAY": "{{ ds }}"}).expand(
            bash_command=["echo $DAY {{ params.who }}", "echo {{ ti.map_index }}"]
        )
    """,
    )
    assert _mapped(runs, "rendered", "say") == ["2024-03-05 me", "1"]
    assert runs.tis("rendered")["say[0]"].rendered_fields["bash_command"] == "echo $DAY me"


def test_a_skipped_mapped_instance_counts_as_skipped_for_the_downstream(runs: Runs) -> None:
    runs.run(
        "mapskip",
        """
    with DAG("mapskip", start_date=START, schedule=None) as dag:
        @task
        def maybe(x):
            if x == 2:
                raise UpdraftSkipException("not this one")
            return x

        @task
        def strict(values):
            return list(values)

        @task(trigger_rule="none_failed")
        def tolerant(values):
            return list(values)

        m = maybe.expand(x=[1, 2, 3])
        strict(m)
        tolerant(m)
    """,
    )
    assert runs.states("mapskip") == {
        "maybe[0]": "success",
        "maybe[1]": "skipped",
        "maybe[2]": "success",
        "strict": "skipped",
        "tolerant": "success",
    }
    assert runs.xcoms("mapskip")[("tolerant", -1, "return_value")] == [1, 3]


def test_the_output_of_a_mapped_classic_operator_feeds_a_classic_operator(runs: Runs) -> None:
    result = runs.run(
        "mapped_output",
        """
    with DAG("mapped_output", start_date=START, schedule=None) as dag:
        add_one = PythonOperator.partial(task_id="add_one", python_callable=lambda v: v + 1).expand(
            op_args=[[1], [2], [3]]
        )
        PythonOperator(task_id="total", python_callable=lambda values: sum(values), op_args=[add_one.output])
    """,
    )
    assert result.state == "success"
    assert runs.states("mapped_output")["total"] == "success"
    assert _mapped(runs, "mapped_output", "add_one") == [2, 3, 4]
    assert runs.xcoms("mapped_output")[("total", -1, "return_value")] == 9
