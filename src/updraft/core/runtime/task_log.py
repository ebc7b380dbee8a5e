"""One log file per task attempt, with the task's logging and its stdout/stderr in it (registered
secrets masked, see ``updraft.sdk.masking``).

Layout (as Airflow 3): ``<base>/dag_id=D/run_id=R/task_id=T[/map_index=N]/attempt=K.log``.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TextIO

from updraft.sdk.masking import SecretsMaskingFilter

LOG_FORMAT = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"


def attempt_log_path(
    base: Path, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
) -> Path:
    path = base / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    if map_index >= 0:
        path = path / f"map_index={map_index}"
    return path / f"attempt={try_number}.log"


class _Formatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        seconds = time.gmtime(record.created)
        return time.strftime("%Y-%m-%dT%H:%M:%S", seconds) + f".{int(record.msecs):03d}+0000"


class _StreamToLog(io.TextIOBase):
    """Makes ``print()`` inside a task end up as lines of the attempt's log."""

    def __init__(self, handler: logging.Handler, level: int, name: str) -> None:
        self.handler = handler
        self.level = level
        self.name = name
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self._emit(self._buffer)
            self._buffer = ""

    def _emit(self, line: str) -> None:
        record = logging.LogRecord(self.name, self.level, "", 0, line.rstrip("\r"), None, None)
        record.filename = self.name
        self.handler.handle(record)


class AttemptLog:
    """Context manager: while open, root logging and stdout/stderr go to the attempt's file."""

    def __init__(self, path: Path, echo: TextIO | None = None, level: int = logging.INFO) -> None:
        self.path = path
        self.echo = echo
        self.level = level
        self._file: TextIO | None = None

    def __enter__(self) -> AttemptLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)
        self.handler = logging.StreamHandler(self._file)
        self.handler.setFormatter(_Formatter(LOG_FORMAT))
        self.handler.setLevel(self.level)
        handlers: list[logging.Handler] = [self.handler]
        if self.echo is not None:
            echo_handler = logging.StreamHandler(self.echo)
            echo_handler.setFormatter(_Formatter(LOG_FORMAT))
            handlers.append(echo_handler)
        for handler in handlers:  # registered secrets never reach the file or the console
            handler.addFilter(SecretsMaskingFilter())
        self._handlers = handlers
        root = logging.getLogger()
        self._root_level = root.level
        root.setLevel(min(root.level or logging.WARNING, self.level))
        for handler in handlers:
            root.addHandler(handler)
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout = _StreamToLog(self.handler, logging.INFO, "stdout")  # type: ignore[assignment]
        sys.stderr = _StreamToLog(self.handler, logging.WARNING, "stderr")  # type: ignore[assignment]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a user may have replaced the stream
                pass
        sys.stdout, sys.stderr = self._streams
        root = logging.getLogger()
        for handler in self._handlers:
            root.removeHandler(handler)
        root.setLevel(self._root_level)
        if self._file is not None:
            self._file.close()


def read_log(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
