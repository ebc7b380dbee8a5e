"""The import table itself: every Airflow name it lists resolves to a real Updraft object."""

from __future__ import annotations

import importlib

import pytest

import updraft.compat
from updraft.compat.paths import MODULES

NAMES = [(module, name) for module, names in MODULES.items() if not isinstance(names, str) for name in names]


@pytest.fixture(autouse=True)
def _hook_installed() -> None:
    assert updraft.compat.install()


@pytest.mark.parametrize(("module", "name"), NAMES, ids=[f"{m}.{n}" for m, n in NAMES])
def test_every_listed_name_resolves(module: str, name: str):
    value = getattr(importlib.import_module(module), name)
    assert value is not None


def test_the_same_object_under_every_path():
    from airflow import DAG as dag_from_root
    from airflow.models.dag import DAG as dag_from_models
    from airflow.operators.bash import BashOperator as old_bash
    from airflow.providers.common.compat.sdk import TriggerRule as compat_rule
    from airflow.providers.standard.operators.bash import BashOperator as new_bash
    from airflow.sdk import DAG as dag_from_sdk
    from airflow.sdk import TriggerRule as sdk_rule
    from airflow.utils.trigger_rule import TriggerRule as old_rule

    from updraft.operators.bash import BashOperator
    from updraft.sdk.dag import DAG
    from updraft.sdk.trigger_rule import TriggerRule

    assert dag_from_root is dag_from_models is dag_from_sdk is DAG
    assert old_bash is new_bash is BashOperator
    assert old_rule is sdk_rule is compat_rule is TriggerRule


def test_an_airflow_exception_catches_updraft_errors():
    from airflow.exceptions import AirflowException, AirflowNotFoundException, AirflowSkipException
    from airflow.hooks.base import BaseHook

    with pytest.raises(AirflowNotFoundException, match="no_such_conn"):
        BaseHook.get_connection("no_such_conn")
    assert issubclass(AirflowSkipException, AirflowException)
