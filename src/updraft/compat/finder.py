"""The import hook: ``import airflow.<anything>`` yields a module whose names are Updraft objects.

:class:`AirflowFinder` sits on ``sys.meta_path``. For a path listed in
:data:`updraft.compat.paths.MODULES` (or a package above one) it creates an
:class:`AirflowModule`, which resolves a name on first access and caches it. A path or name that
Updraft lacks raises an ``ImportError`` that names the Airflow feature and says what to do, so a
DAG file fails at its import line rather than deep inside a run.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

from updraft.compat.paths import MODULES, UNSUPPORTED, UNSUPPORTED_PROVIDER_ADVICE

__all__ = ["AirflowFinder", "AirflowModule", "UnsupportedAirflowFeature", "is_compat_module"]

_ROOT = "airflow"
_PACKAGES: frozenset[str] = frozenset(
    ".".join(path.split(".")[:depth]) for path in MODULES for depth in range(1, path.count(".") + 1)
)


class UnsupportedAirflowFeature(ImportError):
    """An Airflow module or name that Updraft does not provide; the message says what to do."""


def _unsupported_advice(path: str) -> str | None:
    """The advice for ``path`` or its nearest listed parent, if any."""
    parts = path.split(".")
    for depth in range(len(parts), 0, -1):
        advice = UNSUPPORTED.get(".".join(parts[:depth]))
        if advice is not None:
            return advice
    return None


def _missing_module_message(fullname: str) -> str:
    advice = _unsupported_advice(fullname)
    if advice is not None:
        return f"{fullname}: {advice}"
    parts = fullname.split(".")
    if len(parts) >= 3 and parts[1] == "providers":
        provider = parts[2] if parts[2] != "common" or len(parts) < 4 else f"common.{parts[3]}"
        known = any(key.startswith(f"airflow.providers.{provider}.") for key in MODULES)
        if not known:
            return f"{fullname}: the Airflow provider {provider!r} is not part of Updraft. {UNSUPPORTED_PROVIDER_ADVICE}"
    return (
        f"{fullname} is not available in Updraft's Airflow compatibility layer; "
        "see docs/airflow-compat.md for the supported import paths"
    )


class AirflowModule(types.ModuleType):
    """A stand-in for one Airflow module; each name is looked up in Updraft on first access."""

    def __init__(self, name: str, names: dict[str, str] | str | None) -> None:
        super().__init__(name)
        self.__dict__["_compat_names"] = names
        if isinstance(names, dict):
            self.__all__ = sorted(n for n in names if not n.startswith("_"))

    def __getattr__(self, name: str) -> Any:
        value = _resolve(self, name)
        setattr(self, name, value)
        return value

    def __dir__(self) -> list[str]:
        names = self.__dict__["_compat_names"]
        listed = list(names) if isinstance(names, dict) else list(dir(importlib.import_module(names)))
        return sorted({*self.__dict__, *listed})


def _resolve(module: AirflowModule, name: str) -> Any:
    names = module.__dict__["_compat_names"]
    fullname = f"{module.__name__}.{name}"
    if name.startswith("__") and name != "__version__":
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
    if fullname in _PACKAGES or fullname in MODULES:
        return importlib.import_module(fullname)
    if isinstance(names, str):  # a whole Updraft module under an Airflow path
        target = importlib.import_module(names)
        try:
            return getattr(target, name)
        except AttributeError:
            pass
    elif names is not None and name in names:
        return _load_target(fullname, names[name], name)
    if name.startswith("_"):
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
    raise UnsupportedAirflowFeature(_missing_name_message(fullname), name=module.__name__)


def _missing_name_message(fullname: str) -> str:
    advice = _unsupported_advice(fullname)
    if advice is not None:
        return f"{fullname}: {advice}"
    return (
        f"{fullname} is not provided by Updraft's Airflow compatibility layer; "
        "see docs/airflow-compat.md for what is supported and what to use instead"
    )


def _load_target(fullname: str, target: str, name: str) -> Any:
    if target.startswith("@"):
        return importlib.import_module(target[1:])
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute or name)
    except AttributeError:
        raise UnsupportedAirflowFeature(_missing_name_message(fullname)) from None


class AirflowFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and creates ``airflow`` modules from the table in :mod:`updraft.compat.paths`."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _ROOT and not fullname.startswith(_ROOT + "."):
            return None
        if path:  # the parent is a real package (placed in sys.modules by someone): its files win
            return None
        if fullname not in MODULES and fullname not in _PACKAGES:
            raise UnsupportedAirflowFeature(_missing_module_message(fullname), name=fullname)
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        spec.submodule_search_locations = []
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        names = MODULES.get(spec.name)
        return AirflowModule(spec.name, names if names is None or isinstance(names, str) else dict(names))

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []  # a package, so that submodules import through this finder


def is_compat_module(module: object) -> bool:
    """True for a module this layer created (as opposed to a real Airflow install)."""
    return isinstance(module, AirflowModule)


def remove_compat_modules() -> None:
    """Forget every module this layer created, so the next import finds them anew."""
    for name in [n for n, m in sys.modules.items() if isinstance(m, AirflowModule)]:
        del sys.modules[name]
