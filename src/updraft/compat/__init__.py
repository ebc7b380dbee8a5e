"""Run Airflow DAG files unchanged: ``import airflow...`` resolves to Updraft's own objects.

Importing this package installs the import hook (see :mod:`updraft.compat.finder`) unless the real
``apache-airflow`` is importable or ``UPDRAFT__CORE__AIRFLOW_COMPAT`` is false. So a user can
smoke-test a file with ``python -c "import updraft.compat; exec(open('my_dag.py').read())"`` or by
putting ``import updraft.compat`` first. Updraft's DAG processor, task runner and ``dags test`` call
:func:`install` themselves, honouring the ``core.airflow_compat`` option.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading

from updraft.compat.finder import AirflowFinder, UnsupportedAirflowFeature, remove_compat_modules

__all__ = ["UnsupportedAirflowFeature", "install", "installed", "real_airflow_available", "uninstall"]

_FINDER = AirflowFinder()
_lock = threading.Lock()
_real_airflow: bool | None = None
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})


def real_airflow_available() -> bool:
    """True when an ``apache-airflow`` install is importable (then it is used, not this layer)."""
    global _real_airflow
    if _real_airflow is None:
        with _lock:
            active = _FINDER in sys.meta_path
            if active:
                sys.meta_path.remove(_FINDER)
            try:
                _real_airflow = importlib.util.find_spec("airflow") is not None
            except (ImportError, ValueError):
                _real_airflow = False
            finally:
                if active:
                    sys.meta_path.insert(0, _FINDER)
    return _real_airflow


def installed() -> bool:
    """Whether ``import airflow`` currently resolves through this layer."""
    return _FINDER in sys.meta_path


def install() -> bool:
    """Put the hook first on ``sys.meta_path``; returns whether it is active (idempotent)."""
    if real_airflow_available():
        return False
    with _lock:
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)
    return True


def uninstall() -> None:
    """Remove the hook and forget the modules it created."""
    with _lock:
        while _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
        remove_compat_modules()


def _enabled_by_environment() -> bool:
    for name in ("UPDRAFT__CORE__AIRFLOW_COMPAT",):
        value = os.environ.get(name)
        if value is not None:
            return value.strip().lower() not in _FALSE
    return True


if _enabled_by_environment():
    install()
