"""``FileSensor``: wait for a file (or a non-empty folder) matching a path or glob pattern."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from glob import glob
from typing import Any, ClassVar

from updraft.operators.sensors.base import BaseSensorOperator

__all__ = ["FileSensor"]


class FileSensor(BaseSensorOperator):
    """Succeed once ``filepath`` (templated; may be a glob) matches a file, or a folder with files.

    ``filepath`` is relative to the ``path`` in the extra of connection ``fs_conn_id`` (Airflow's
    ``fs`` connection type). When that connection is not defined the path is used as it is.
    ``recursive=True`` lets ``**`` in the pattern match any number of folders.
    """

    template_fields: ClassVar[Sequence[str]] = ("filepath",)
    ui_color: ClassVar[str] = "#91818a"

    def __init__(
        self,
        *,
        filepath: str | os.PathLike[str],
        fs_conn_id: str = "fs_default",
        recursive: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filepath: Any = os.fspath(filepath) if isinstance(filepath, os.PathLike) else filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive

    def full_path(self, context: Any) -> str:
        """``filepath`` under the connection's base path, if the connection exists."""
        accessor = context.get("conn") if hasattr(context, "get") else None
        connection = accessor.get(self.fs_conn_id) if accessor is not None and self.fs_conn_id else None
        base = connection.extra_dejson.get("path", "") if connection is not None else ""
        filepath = str(self.filepath)
        return os.path.join(base, filepath) if base else filepath

    def poke(self, context: Any) -> bool:
        path = self.full_path(context)
        self.log.info("Poking for file %s", path)
        for match in glob(path, recursive=self.recursive):
            if os.path.isfile(match):
                modified = datetime.fromtimestamp(os.path.getmtime(match)).strftime("%Y-%m-%d %H:%M:%S")
                self.log.info("Found file %s, last modified %s", match, modified)
                return True
            for _, _, files in os.walk(match):
                if files:
                    self.log.info("Found folder %s with files in it", match)
                    return True
        return False
