"""The authoring API as a DAG author uses it: DAG arguments, default_args, dependencies, groups."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import updraft
from updraft import DAG, BaseOperator, Label, TaskGroup, TriggerRule, chain, cross_downstream, dag, task_group
from updraft.sdk.exceptions import DagCycleError, DuplicateTaskIdError


class Noop(BaseOperator):
    def execute(self, context):
        return None


class WithArgs(BaseOperator):
    template_fields = ("command",)

    def __init__(self, *, command: str, flavour: str = "plain", **kwargs):
        super().__init__(**kwargs)
        self.command = command
        self.flavour = flavour


def test_public_names_are_exactly_the_documented_ones():
    for name in updraft.__all__:
        assert getattr(updraft, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = updraft.Nope


def test_context_manager_attaches_tasks_and_dag_argument_does_too():
    with DAG("ctx", schedule=None) as d:
        a = Noop(task_id="a")
    other = DAG("explicit", schedule=None)
    b = Noop(task_id="b", dag=other)
    assert a.dag is d and d.task_ids == ["a"]
    assert b.dag is other and other.task_ids == ["b"]


def test_default_args_fill_what_the_task_does_not_set_and_unknown_keys_are_ignored():
    default_args = {
        "owner": "ana",
        "retries": 3,
        "retry_delay": timedelta(seconds=7),
        "flavour": "spicy",
        "queue": "q1",
        "depends_on_past": True,
        "email_on_failure": False,
        "not_an_argument": 1,
    }
    with DAG("defaults", default_args=default_args, schedule=None):
        plain = Noop(task_id="plain")
        custom = WithArgs(task_id="custom", command="x", retries=0)
    assert (plain.owner, plain.retries, plain.retry_delay, plain.queue) == (
        "ana",
        3,
        timedelta(seconds=7),
        "q1",
    )
    assert plain.depends_on_past is True and plain.email_on_failure is False
    # A subclass argument is filled from default_args too; an explicit value always wins.
    assert custom.flavour == "spicy" and custom.retries == 0


def test_task_group_default_args_override_dag_default_args():
    with DAG("grouped", default_args={"retries": 1, "owner": "dag"}, schedule=None):
        with TaskGroup("g", default_args={"retries": 5}):
            inner = Noop(task_id="t")
        outer = Noop(task_id="t2")
    assert (inner.retries, inner.owner) == (5, "dag")
    assert outer.retries == 1


def test_required_argument_from_default_args_and_missing_one_is_named():
    with DAG("req", default_args={"command": "echo hi"}, schedule=None):
        task = WithArgs(task_id="t")
    assert task.command == "echo hi"
    with DAG("req2", schedule=None), pytest.raises(TypeError, match=r"missing required argument.*command"):
        WithArgs(task_id="t")


def test_positional_arguments_and_unknown_arguments_are_rejected_with_the_task_named():
    with DAG("bad", schedule=None):
        with pytest.raises(TypeError, match="keyword arguments"):
            Noop("t")
        with pytest.raises(TypeError, match=r"Noop \(task_id: 't'\).*colour"):
            Noop(task_id="t", colour="red")


def test_dependency_operators_lists_chain_and_cross_downstream():
    with DAG("deps", schedule=None) as d:
        a, b, c, e, f, g = (Noop(task_id=x) for x in "abcefg")
        a >> [b, c]
        [b, c] >> e
        f << e
        chain(f, [g])
    assert a.downstream_task_ids == {"b", "c"}
    assert e.upstream_task_ids == {"b", "c"}
    assert f.upstream_task_ids == {"e"} and g.upstream_task_ids == {"f"}
    assert [t.task_id for t in d.roots] == ["a"]

    with DAG("cross", schedule=None):
        x1, x2, y1, y2 = (Noop(task_id=x) for x in ("x1", "x2", "y1", "y2"))
        cross_downstream([x1, x2], [y1, y2])
    assert y1.upstream_task_ids == {"x1", "x2"} and y2.upstream_task_ids == {"x1", "x2"}


def test_chain_pairs_lists_element_wise_and_rejects_unequal_lengths():
    with DAG("chain", schedule=None):
        a, b, c, d_, e, f = (Noop(task_id=x) for x in "abcdef")
        chain(a, [b, c], [d_, e], f)
        with pytest.raises(ValueError, match="length 2 and 1"):
            chain([a, b], [c])
    assert d_.upstream_task_ids == {"b"} and e.upstream_task_ids == {"c"}
    assert f.upstream_task_ids == {"d", "e"}


def test_labels_name_edges_on_both_directions():
    with DAG("labels", schedule=None) as d:
        a, b, c = Noop(task_id="a"), Noop(task_id="b"), Noop(task_id="c")
        a >> Label("when ready") >> [b, c]
        c << Label("back") << b
    assert d.get_edge_info("a", "b") == {"label": "when ready"}
    assert d.get_edge_info("a", "c") == {"label": "when ready"}
    assert d.get_edge_info("b", "c") == {"label": "back"}


def test_task_groups_prefix_ids_nest_and_link_leaves_to_roots():
    with DAG("groups", schedule=None) as d:
        start = Noop(task_id="start")
        with TaskGroup("extract") as extract:
            e1, _ = Noop(task_id="one"), Noop(task_id="two")
            with TaskGroup("deep"):
                deep = Noop(task_id="leaf")
            e1 >> deep
        with TaskGroup("load", prefix_group_id=False) as load:
            l1 = Noop(task_id="load_one")
        start >> extract >> load
    assert (e1.task_id, deep.task_id, l1.task_id) == ("extract.one", "extract.deep.leaf", "load_one")
    assert deep.label == "leaf"
    assert start.downstream_task_ids == {"extract.one", "extract.two"}
    assert l1.upstream_task_ids == {"extract.deep.leaf", "extract.two"}
    assert set(d.task_group.children) == {"start", "extract", "load"}


def test_task_group_decorator_builds_a_group_per_call_with_unique_ids():
    @task_group
    def stage(name: str):
        return Noop(task_id=name)

    with DAG("tg", schedule=None) as d:
        first = stage("x")
        second = stage("x")
    assert first.task_id == "stage.x" and second.task_id == "stage__1.x"
    assert set(d.task_ids) == {"stage.x", "stage__1.x"}


def test_dag_decorator_turns_function_arguments_into_params():
    @dag(schedule="@daily", start_date=datetime(2024, 1, 1), tags=["t"])
    def my_pipeline(size: int = 3):
        """Docs from the docstring."""
        Noop(task_id="only")

    built = my_pipeline()
    assert built.dag_id == "my_pipeline"
    assert built.params["size"] == 3
    assert built.doc_md == "Docs from the docstring."
    assert built.task_ids == ["only"]


def test_naive_start_date_is_utc_and_default_args_start_date_is_used():
    with DAG("dates", default_args={"start_date": datetime(2024, 5, 1)}, schedule="@daily") as d:
        pass
    assert d.start_date == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert d.catchup is False


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: DAG("bad id!", schedule=None), "invalid dag_id 'bad id!'"),
        (lambda: DAG("x", schedule="not a cron"), "DAG 'x'.*not a cron"),
        (lambda: DAG("x", schedule=42), "DAG 'x'"),
    ],
)
def test_bad_dag_arguments_name_the_dag_and_the_value(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_bad_task_arguments_name_the_task_and_the_dag():
    with DAG("checks", schedule=None):
        with pytest.raises(ValueError, match="invalid task_id 'a b' in DAG 'checks'"):
            Noop(task_id="a b")
        with pytest.raises(ValueError, match="task 'r' in DAG 'checks': retries must not be negative"):
            Noop(task_id="r", retries=-1)
        with pytest.raises(ValueError, match="task 'tr' in DAG 'checks': unknown trigger rule 'sometimes'"):
            Noop(task_id="tr", trigger_rule="sometimes")
        ok = Noop(task_id="legacy", trigger_rule="none_failed_or_skipped")
    assert ok.trigger_rule is TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS


def test_duplicate_task_id_names_the_dag_and_the_first_definition():
    with DAG("dupes", schedule=None):
        Noop(task_id="same")
        with pytest.raises(
            DuplicateTaskIdError,
            match=r"DAG 'dupes': task_id 'same' is used twice \(first defined at .*test_authoring.py",
        ):
            Noop(task_id="same")


def test_cycle_is_reported_with_the_tasks_in_it():
    with DAG("cyclic", schedule=None) as d:
        a, b, c, ok = Noop(task_id="a"), Noop(task_id="b"), Noop(task_id="c"), Noop(task_id="ok")
        ok >> a >> b >> c >> a
    with pytest.raises(DagCycleError, match=r"DAG 'cyclic' has a dependency cycle: a >> b >> c >> a"):
        d.validate()


def test_tasks_of_two_dags_cannot_depend_on_each_other():
    with DAG("one", schedule=None):
        a = Noop(task_id="a")
    with DAG("two", schedule=None):
        b = Noop(task_id="b")
    with pytest.raises(ValueError, match="different DAGs"):
        a >> b


def test_topological_sort_puts_every_upstream_first():
    with DAG("topo", schedule=None) as d:
        tasks = [Noop(task_id=f"t{i}") for i in range(6)]
        tasks[5] >> tasks[0] >> tasks[3]
        tasks[1] >> tasks[3] >> tasks[2]
        tasks[4] >> tasks[2]
    order = [t.task_id for t in d.topological_sort()]
    for task in d.tasks:
        for up in task.upstream_task_ids:
            assert order.index(up) < order.index(task.task_id)


def test_partial_expand_validates_names_and_values():
    with DAG("mapping", schedule=None):
        with pytest.raises(ValueError, match="cannot expand over 'nope'"):
            WithArgs.partial(task_id="m").expand(nope=[1])
        with pytest.raises(ValueError, match="'task_id' cannot be mapped over"):
            WithArgs.partial(task_id="m2").expand(task_id=["a"])
        with pytest.raises(ValueError, match="must be a list, tuple, dict or XComArg, got int"):
            WithArgs.partial(task_id="m3").expand(command=5)
        mapped = WithArgs.partial(task_id="m4", retries=2).expand(command=["a", "b"])
    assert mapped.is_mapped and mapped.retries == 2 and mapped.task_id == "m4"
