"""Public exceptions for DAG authors: ``from updraft.exceptions import UpdraftSkipException``."""

from updraft.sdk.exceptions import *  # noqa: F403
from updraft.sdk.exceptions import __all__ as __all__
