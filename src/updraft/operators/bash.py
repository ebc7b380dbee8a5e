"""``BashOperator``: run a shell command (or a templated ``.sh`` script) in its own process group.

The last line written to stdout is the task's return value. A non-zero exit fails the task with
the exit code and the tail of stderr in the message; an exit code in ``skip_on_exit_code``
(99 by default) skips it. The command runs in a fresh session, so stopping the task (its
``execution_timeout``, ``on_kill``, or any exception while it runs) kills the whole process group.
"""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Container, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar

from updraft.sdk.baseoperator import BaseOperator
from updraft.sdk.exceptions import UpdraftException, UpdraftSkipException

__all__ = ["BashOperator", "context_env_vars"]

#: How many trailing stderr lines a failure message quotes.
STDERR_TAIL_LINES = 20
#: Seconds between SIGTERM and SIGKILL when the command has to be stopped.
KILL_GRACE_SECONDS = 5.0

_bash_path: str | None = None


def _bash() -> str:
    global _bash_path
    if _bash_path is None:
        _bash_path = shutil.which("bash") or "bash"
    return _bash_path


def _identity(output: str) -> Any:
    return output


def _env_value(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def context_env_vars(context: Any) -> dict[str, str]:
    """The ``AIRFLOW_CTX_*`` variables that tell a script which DAG, task and run it belongs to."""
    task = context.get("task")
    ti = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    logical_date = context.get("logical_date")
    pairs = {
        "AIRFLOW_CTX_DAG_EMAIL": getattr(task, "email", None),
        "AIRFLOW_CTX_DAG_OWNER": getattr(task, "owner", None),
        "AIRFLOW_CTX_DAG_ID": getattr(ti, "dag_id", None),
        "AIRFLOW_CTX_TASK_ID": getattr(ti, "task_id", None),
        "AIRFLOW_CTX_LOGICAL_DATE": logical_date,
        "AIRFLOW_CTX_EXECUTION_DATE": logical_date,
        "AIRFLOW_CTX_TRY_NUMBER": getattr(ti, "try_number", None),
        "AIRFLOW_CTX_DAG_RUN_ID": getattr(dag_run, "run_id", None) or context.get("run_id"),
    }
    env: dict[str, str] = {}
    for name, value in pairs.items():
        text = _env_value(value)
        if text is not None:
            env[name] = text
    return env


@contextlib.contextmanager
def _working_directory(cwd: str | None) -> Iterator[str]:
    if cwd is not None:
        yield cwd
        return
    with tempfile.TemporaryDirectory(prefix="updrafttmp") as tmp:
        yield tmp


class BashOperator(BaseOperator):
    """Run ``bash_command`` with bash; the last stdout line is returned (and pushed as XCom).

    ``bash_command`` may name a ``.sh``/``.bash`` file, which is found on the DAG's template
    search path, rendered as a template and run as a script. ``env`` replaces the environment
    unless ``append_env=True`` adds it to the current one. Without ``cwd`` the command runs in
    a temporary directory.
    """

    template_fields: ClassVar[Sequence[str]] = ("bash_command", "env", "cwd")
    template_fields_renderers = {"bash_command": "bash", "env": "json"}
    template_ext: ClassVar[Sequence[str]] = (".sh", ".bash")
    ui_color = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command: Any,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | Container[int] | None = 99,
        cwd: str | None = None,
        output_processor: Callable[[str], Any] = _identity,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.output_encoding = output_encoding
        if skip_on_exit_code is None:
            self.skip_on_exit_code: Container[int] = ()
        elif isinstance(skip_on_exit_code, int):
            self.skip_on_exit_code = (skip_on_exit_code,)
        else:
            self.skip_on_exit_code = skip_on_exit_code
        self.cwd = cwd
        self.output_processor = output_processor
        #: The command before rendering: a name ending in template_ext means "run as a script".
        self._unrendered_bash_command = bash_command
        self._process: subprocess.Popen[bytes] | None = None

    # -- environment ---------------------------------------------------------------------------

    def get_env(self, context: Any) -> dict[str, str]:
        """The environment for the command: ``env`` (or the current one), plus ``AIRFLOW_CTX_*``."""
        if self.env is None:
            env = dict(os.environ)
        elif self.append_env:
            env = {**os.environ, **self.env}
        else:
            env = dict(self.env)
        for key, value in env.items():
            if not isinstance(value, str):
                raise UpdraftException(
                    f"task {self.task_id!r}: environment variable {key!r} must be a string, "
                    f"got {type(value).__name__} {value!r}"
                )
        env.update(context_env_vars(context))
        return env

    def _is_inline_command(self, command: Any) -> bool:
        return not (isinstance(command, str) and command.endswith(tuple(self.template_ext)))

    # -- running -------------------------------------------------------------------------------

    def execute(self, context: Any) -> Any:
        if self.cwd is not None:
            if not os.path.exists(self.cwd):
                raise UpdraftException(f"task {self.task_id!r}: cannot find the cwd {self.cwd!r}")
            if not os.path.isdir(self.cwd):
                raise UpdraftException(f"task {self.task_id!r}: the cwd {self.cwd!r} must be a directory")
        command = self.bash_command
        if not isinstance(command, str) or not command.strip():
            raise UpdraftException(f"task {self.task_id!r}: bash_command must be a non-empty string")
        env = self.get_env(context)
        with _working_directory(self.cwd) as cwd:
            if self._is_inline_command(self._unrendered_bash_command):
                exit_code, last_line, stderr_tail = self._run([_bash(), "-c", command], env, cwd)
            else:
                with tempfile.NamedTemporaryFile("w", dir=cwd, suffix=".sh", encoding="utf-8") as script:
                    script.write(command)
                    script.flush()
                    argv = [_bash(), os.path.basename(script.name)]
                    exit_code, last_line, stderr_tail = self._run(argv, env, cwd)
        if exit_code in self.skip_on_exit_code:
            raise UpdraftSkipException(f"Bash command returned exit code {exit_code}. Skipping.")
        if exit_code != 0:
            detail = "\n".join(stderr_tail)
            suffix = f"; the end of stderr:\n{detail}" if detail else " (stderr was empty)"
            raise UpdraftException(
                f"Bash command failed. The command returned a non-zero exit code {exit_code}{suffix}"
            )
        return self.output_processor(last_line)

    def _run(self, argv: list[str], env: dict[str, str], cwd: str) -> tuple[int, str, list[str]]:
        """Run ``argv``, logging its output; returns (exit code, last stdout line, stderr tail)."""
        self.log.info("Running command: %s", argv)
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
            restore_signals=True,
        )
        self._process = process
        try:
            last_line, stderr_tail = self._read_output(process)
            exit_code = process.wait()
        except BaseException:
            # Interrupted (execution_timeout, on_kill, KeyboardInterrupt...): leave nothing running.
            self._terminate(process)
            raise
        finally:
            self._process = None
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        self.log.info("Command exited with return code %s", exit_code)
        return exit_code, last_line, stderr_tail

    def _read_output(self, process: subprocess.Popen[bytes]) -> tuple[str, list[str]]:
        encoding = self.output_encoding
        stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        last_line = ""
        pending = {"out": b"", "err": b""}
        with selectors.DefaultSelector() as selector:
            assert process.stdout is not None and process.stderr is not None
            selector.register(process.stdout, selectors.EVENT_READ, "out")
            selector.register(process.stderr, selectors.EVENT_READ, "err")
            while selector.get_map():
                for key, _ in selector.select():
                    name = key.data
                    chunk = os.read(key.fd, 65536)
                    if chunk:
                        data = pending[name] + chunk
                        *lines, pending[name] = data.split(b"\n")
                    else:
                        selector.unregister(key.fileobj)
                        lines = [pending[name]] if pending[name] else []
                        pending[name] = b""
                    for raw in lines:
                        line = raw.decode(encoding, errors="backslashreplace").rstrip()
                        self.log.info("%s", line)
                        if name == "out":
                            last_line = line
                        else:
                            stderr_tail.append(line)
        return last_line, list(stderr_tail)

    def _terminate(self, process: subprocess.Popen[bytes], grace: float = KILL_GRACE_SECONDS) -> None:
        """SIGTERM the command's process group, then SIGKILL whatever is left after ``grace``."""
        pgid = process.pid  # the command leads its own session and process group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)

    def on_kill(self) -> None:
        process = self._process
        if process is not None:
            self.log.info("Sending SIGTERM to the command's process group")
            self._terminate(process)
