"""Updraft: author DAGs in Python and run them, lightly and fast.

``from updraft import DAG, task`` is cheap: names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from updraft.sdk.lazy_exports import lazy_exports

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "DAG": "updraft.sdk.dag",
    "BaseOperator": "updraft.sdk.baseoperator",
    "TaskGroup": "updraft.sdk.taskgroup",
    "Param": "updraft.sdk.params",
    "ParamsDict": "updraft.sdk.params",
    "Label": "updraft.sdk.edges",
    "chain": "updraft.sdk.dependencies",
    "chain_linear": "updraft.sdk.dependencies",
    "cross_downstream": "updraft.sdk.dependencies",
    "TriggerRule": "updraft.sdk.trigger_rule",
    "dag": "updraft.sdk.decorators",
    "task_group": "updraft.sdk.decorators",
    "task": "updraft.operators.taskflow",
    "XComArg": "updraft.sdk.xcom_arg",
    "TaskInstanceState": "updraft.sdk.states",
    "DagRunState": "updraft.sdk.states",
    "Variable": "updraft.sdk.variable",
    "mask_secret": "updraft.sdk.masking",
    "Asset": "updraft.sdk.assets",
    "AssetAll": "updraft.sdk.assets",
    "AssetAny": "updraft.sdk.assets",
    "Dataset": "updraft.sdk.assets",
}

__all__ = [
    "DAG",
    "Asset",
    "AssetAll",
    "AssetAny",
    "BaseOperator",
    "DagRunState",
    "Dataset",
    "Label",
    "Param",
    "ParamsDict",
    "TaskGroup",
    "TaskInstanceState",
    "TriggerRule",
    "Variable",
    "XComArg",
    "__version__",
    "chain",
    "chain_linear",
    "cross_downstream",
    "dag",
    "mask_secret",
    "task",
    "task_group",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from updraft.operators.taskflow import task
    from updraft.sdk.assets import Asset, AssetAll, AssetAny, Dataset
    from updraft.sdk.baseoperator import BaseOperator
    from updraft.sdk.dag import DAG
    from updraft.sdk.decorators import dag, task_group
    from updraft.sdk.dependencies import chain, chain_linear, cross_downstream
    from updraft.sdk.edges import Label
    from updraft.sdk.masking import mask_secret
    from updraft.sdk.params import Param, ParamsDict
    from updraft.sdk.states import DagRunState, TaskInstanceState
    from updraft.sdk.taskgroup import TaskGroup
    from updraft.sdk.trigger_rule import TriggerRule
    from updraft.sdk.variable import Variable
    from updraft.sdk.xcom_arg import XComArg
