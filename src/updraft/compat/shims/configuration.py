"""``airflow.configuration.conf``: Updraft's configuration, read with Airflow's method names.

Updraft's configuration lives in the runtime; this proxy reaches it on first use, so a DAG file
that reads ``conf`` at import works in every Updraft process (they all have the runtime).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

_MISSING: Any = object()


class ConfigProxy:
    """``conf.get("core", "dags_folder")``, ``getboolean``, ``getint``, ``getfloat``, ``getjson``..."""

    @staticmethod
    def _conf() -> Any:
        return importlib.import_module("updraft.core.config").conf

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conf(), name)

    def get(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> Any:
        conf = self._conf()
        return conf.get(section, key) if fallback is _MISSING else conf.get(section, key, fallback)

    def getjson(self, section: str, key: str, fallback: Any = _MISSING) -> Any:
        raw = self.get(section, key) if fallback is _MISSING else self.get(section, key, None)
        if raw in (None, ""):
            return None if fallback is _MISSING else fallback
        return json.loads(raw)

    def getlist(self, section: str, key: str, delimiter: str = ",", **kwargs: Any) -> list[str]:
        raw = self.get(section, key, **kwargs)
        return [part.strip() for part in str(raw).split(delimiter) if part.strip()]


conf = ConfigProxy()
