"""Parsing DAG files in forked child processes, a few at a time, each with a time limit.

The parent (the DAG processor) has updraft, the SDK and the common operators imported
(:func:`preload_modules`), so a forked child starts in about a millisecond. The child imports one
file with :func:`updraft.core.dagbag.load_file`, serializes each DAG it defines and writes one JSON
message back over a pipe: ``{"path", "file_hash", "dags": [serialized dicts], "error"}``. The
parent only ever reads JSON from its children, never pickles, and never holds a user's DAG object.

Whatever the user's file does, the parent gets a :class:`ParseResult` for it:

- an exception, ``sys.exit()``, a cycle, ... -> the error ``load_file`` reports, with traceback;
- an endless loop -> the child's own alarm (``core.dagbag_import_timeout``) reports it with the
  user's traceback; if the alarm cannot fire (signals blocked, a C extension hanging), the parent
  kills the child after the timeout plus a grace period and reports the timeout itself;
- a segfault, ``os._exit()``, being killed -> an error naming the file and how the process died.
"""

from __future__ import annotations

import faulthandler
import gc
import importlib
import json
import os
import selectors
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from updraft.core.dagbag import file_hash, load_file
from updraft.operators.bash import BashOperator
from updraft.operators.empty import EmptyOperator
from updraft.operators.python import PythonOperator
from updraft.operators.taskflow import task
from updraft.sdk.dag import DAG
from updraft.sdk.serialization import serialize_dag

__all__ = ["PRELOAD_MODULES", "ParseResult", "ParserPool", "parse_in_this_process", "preload_modules"]

#: Imported once in the processor so that forked children find them already loaded.
PRELOAD_MODULES = (
    "updraft",
    "updraft.sdk.dag",
    "updraft.sdk.decorators",
    "updraft.sdk.taskgroup",
    "updraft.sdk.params",
    "updraft.sdk.edges",
    "updraft.sdk.dependencies",
    "updraft.sdk.serialization",
    "updraft.operators",
    "updraft.operators.bash",
    "updraft.operators.python",
    "updraft.operators.empty",
    "updraft.operators.branch",
    "updraft.operators.taskflow",
)
_READ_SIZE = 1 << 16
_POLL_S = 0.2  # longest wait between two checks of the stop request


@dataclass
class ParseResult:
    """What parsing one file gave: its DAGs as serialized dicts, or the file's import error."""

    path: str
    file_hash: str | None
    dags: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    duration: float = 0.0

    @property
    def dag_ids(self) -> list[str]:
        return [str(data["dag"]["dag_id"]) for data in self.dags]


def preload_modules() -> None:
    """Import what DAG files usually import, in the parent, so children do not pay for it.

    Then build and serialize a small DAG of our own, so that whatever the SDK imports lazily on
    first use (croniter for a cron schedule, ...) is loaded here too, once.
    """
    for name in PRELOAD_MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            try:
                getattr(module, attr)  # resolve lazy names once, here
            except (AttributeError, ImportError):
                continue
    _warm_up()


def _warm_up() -> None:
    with DAG("updraft_warm_up", start_date=datetime(2024, 1, 1), schedule="0 2 * * *", tags=["w"]) as dag:
        start = EmptyOperator(task_id="start")
        bash = BashOperator(task_id="bash", bash_command="echo {{ ds }}")
        python = PythonOperator(task_id="python", python_callable=len, op_args=["x"])

        @task
        def double(value: int) -> int:
            return value * 2

        start >> [bash, python] >> double(python.output)
    json.dumps(serialize_dag(dag))


def parse_in_this_process(path: Path, timeout: float) -> ParseResult:
    """Import ``path`` here and serialize its DAGs (what a child runs; usable directly in tests)."""
    started = time.monotonic()
    try:
        digest = file_hash(path)
    except OSError as exc:
        return ParseResult(str(path), None, error=f"{path}: cannot read the file: {exc}")
    dags, error = load_file(path, timeout)
    if error is not None:
        return ParseResult(str(path), digest, error=error, duration=time.monotonic() - started)
    serialized: list[dict[str, Any]] = []
    seen: set[str] = set()
    for dag in dags:
        if dag.dag_id in seen:
            message = f"{path}: DAG {dag.dag_id!r} is defined twice in this file; dag_ids must be unique"
            return ParseResult(str(path), digest, error=message)
        seen.add(dag.dag_id)
        try:
            serialized.append(serialize_dag(dag))
        except Exception as exc:  # noqa: BLE001 - a DAG the user built wrongly is an error in the file
            return ParseResult(str(path), digest, error=f"{path}: {type(exc).__name__}: {exc}")
    return ParseResult(str(path), digest, serialized, None, time.monotonic() - started)


def _encode(result: ParseResult) -> bytes:
    message = {"path": result.path, "file_hash": result.file_hash, "dags": result.dags, "error": result.error}
    return json.dumps(message, allow_nan=False, separators=(",", ":")).encode()


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


def _child_main(path: Path, timeout: float, write_fd: int, crash_fd: int) -> NoReturn:
    """Body of a forked child: parse, report, and leave without running the parent's cleanup."""
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        faulthandler.enable(file=crash_fd)  # a segfault's Python traceback, for the import error
        gc.freeze()  # the inherited heap is never collected here: its pages stay shared
        result = parse_in_this_process(path, timeout)
        try:
            payload = _encode(result)
        except (TypeError, ValueError) as exc:
            payload = _encode(
                ParseResult(str(path), result.file_hash, error=f"{path}: cannot serialize: {exc}")
            )
    except BaseException as exc:  # noqa: BLE001 - anything escaping is still this file's error
        code = 1
        text = "".join(traceback.format_exception(exc))
        payload = _encode(ParseResult(str(path), None, error=f"{path}: {type(exc).__name__}: {exc}\n{text}"))
    try:
        _write_all(write_fd, payload)
    except OSError:
        code = code or 2
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed stream must not stop the exit
                pass
        os._exit(code)


def _user_frames(report: str) -> str:
    """faulthandler's report down to the user's frames: the processor's own frames are dropped."""
    lines = []
    for line in report.strip().splitlines():
        if '"<frozen importlib' in line or line.startswith("Extension modules:"):
            break
        lines.append(line)
    return "\n".join(lines).strip()


@dataclass
class _Child:
    pid: int
    fd: int
    path: Path
    started: float
    deadline: float | None
    crash_fd: int
    chunks: list[bytes] = field(default_factory=list)


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return f"was killed by signal {name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


class ParserPool:
    """Runs up to ``max_processes`` children at once, one per file, and yields their results."""

    def __init__(self, max_processes: int = 2, timeout: float = 30.0, grace: float = 2.0) -> None:
        self.max_processes = max(1, max_processes)
        self.timeout = timeout
        self.grace = grace

    def parse(
        self, paths: Iterable[Path], should_stop: Callable[[], bool] | None = None
    ) -> Generator[ParseResult, None, None]:
        """Parse every file, yielding results as children finish (not in input order).

        Stops early, killing the children still running, when ``should_stop()`` turns true or the
        caller closes the generator.
        """
        queue = deque(paths)
        running: dict[int, _Child] = {}
        selector = selectors.DefaultSelector()
        try:
            while queue or running:
                if should_stop is not None and should_stop():
                    return
                while queue and len(running) < self.max_processes:
                    child = self._start(queue.popleft())
                    running[child.fd] = child
                    selector.register(child.fd, selectors.EVENT_READ, child)
                for key, _ in selector.select(self._wait_time(running.values())):
                    child = key.data
                    try:
                        data = os.read(child.fd, _READ_SIZE)
                    except BlockingIOError:
                        continue
                    if data:
                        child.chunks.append(data)
                        continue
                    selector.unregister(child.fd)
                    del running[child.fd]
                    yield self._finish(child)
                now = time.monotonic()
                for child in [c for c in running.values() if c.deadline is not None and now >= c.deadline]:
                    selector.unregister(child.fd)
                    del running[child.fd]
                    self._kill(child)
                    yield ParseResult(
                        str(child.path),
                        None,
                        error=f"{child.path}: importing this file took longer than {self.timeout:g}s "
                        "(core.dagbag_import_timeout); the DAG processor killed it",
                        duration=now - child.started,
                    )
        finally:
            for child in running.values():
                self._kill(child)
            selector.close()

    def _wait_time(self, children: Iterable[_Child]) -> float:
        now = time.monotonic()
        deadlines = [c.deadline - now for c in children if c.deadline is not None]
        return max(0.0, min([_POLL_S, *deadlines]))

    def _start(self, path: Path) -> _Child:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the child would print the parent's buffered output again
        read_fd, write_fd = os.pipe()
        crash_read_fd, crash_write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
            os.close(read_fd)
            os.close(crash_read_fd)
            _child_main(path, self.timeout, write_fd, crash_write_fd)
        os.close(write_fd)
        os.close(crash_write_fd)
        os.set_blocking(read_fd, False)
        os.set_blocking(crash_read_fd, False)
        started = time.monotonic()
        deadline = started + self.timeout + self.grace if self.timeout > 0 else None
        return _Child(pid, read_fd, path, started, deadline, crash_read_fd)

    def _finish(self, child: _Child) -> ParseResult:
        os.close(child.fd)
        _, status = os.waitpid(child.pid, 0)
        duration = time.monotonic() - child.started
        try:
            crash_report = _user_frames(os.read(child.crash_fd, _READ_SIZE).decode(errors="replace"))
        except OSError:  # nothing written: the pipe is empty
            crash_report = ""
        os.close(child.crash_fd)
        try:
            message = json.loads(b"".join(child.chunks))
            result = ParseResult(
                str(message["path"]), message["file_hash"], list(message["dags"]), message["error"], duration
            )
        except (ValueError, KeyError, TypeError):
            return ParseResult(
                str(child.path),
                None,
                error=f"{child.path}: the process importing this file {_describe_exit(status)} before it "
                "reported its DAGs (the file, or a library it imports, ended or crashed the process)"
                + (f"\n{crash_report}" if crash_report else ""),
                duration=duration,
            )
        return result

    @staticmethod
    def _kill(child: _Child) -> None:
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(child.pid, 0)
        except ChildProcessError:
            pass
        for fd in (child.fd, child.crash_fd):
            try:
                os.close(fd)
            except OSError:
                pass
