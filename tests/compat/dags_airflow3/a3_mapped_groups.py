"""Mapping over task groups: ``@task_group`` with ``.partial().expand()`` and ``.expand_kwargs()``;
one item fails on purpose, and only its own chain inside the group stops."""

import pendulum
from airflow.sdk import DAG, task, task_group
from airflow.utils.trigger_rule import TriggerRule

with DAG("a3_mapped_groups", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):

    @task
    def numbers():
        return [1, 2, 3]

    @task_group
    def scale(num, factor):
        @task
        def add_one(num):
            if num == 2:
                raise ValueError("two is not allowed")
            return num + 1

        @task
        def times(num, factor):
            return num * factor

        return times(add_one(num), factor)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def total(values):
        return sum(v for v in values if v is not None)

    total(scale.partial(factor=10).expand(num=numbers()))

    @task_group
    def greet(name, punctuation):
        @task
        def make(name, punctuation):
            return f"hello {name}{punctuation}"

        @task
        def shout(text):
            return text.upper()

        return shout(make(name, punctuation))

    @task
    def collect(lines):
        return sorted(lines)

    collect(greet.expand_kwargs([{"name": "ada", "punctuation": "!"}, {"name": "bob", "punctuation": "?"}]))
