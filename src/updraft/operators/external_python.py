"""``ExternalPythonOperator``: run a function in another Python interpreter, as Airflow does.

Useful when a task needs libraries that clash with updraft's own: install them in a separate
virtualenv and name its interpreter (``python="/opt/venvs/ml/bin/python"``). The function's source
(without its decorators) is written to a script; the arguments are pickled to a file the script
loads; the interpreter runs the script in a child process whose output goes to the task log; the
pickled return value is read back. So, as in Airflow:

- the function must be a plain ``def`` (no lambda) that imports what it needs inside its body
  and uses no names from the DAG file;
- arguments and the return value must be picklable in both interpreters (``serializer`` may be
  ``"pickle"``, ``"cloudpickle"`` or ``"dill"``, if installed in both);
- of the context it gets only plain values (``ds``, ``ts``, ``run_id``, ``logical_date``,
  ``data_interval_start``, ``params``...), never ``ti``, ``dag_run`` or ``task``;
- ``string_args`` reach the script as the global list ``virtualenv_string_args``;
- an exit code in ``skip_on_exit_code`` skips the task instead of failing it.

``BranchExternalPythonOperator`` does the same and follows the task ids the function returns.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import tempfile
import textwrap
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar

from updraft.operators.branch import BranchMixIn
from updraft.operators.python import PythonOperator, determine_kwargs
from updraft.operators.taskflow import DecoratedOperator
from updraft.sdk.exceptions import UpdraftException, UpdraftSkipException

__all__ = [
    "SERIALIZABLE_CONTEXT_KEYS",
    "BranchExternalPythonDecoratedOperator",
    "BranchExternalPythonOperator",
    "ExternalPythonDecoratedOperator",
    "ExternalPythonOperator",
    "callable_source",
]

#: Exit codes that skip the task (``skip_on_exit_code``).
Container = Collection[int]
#: Context values a function in another interpreter may ask for (plain data only).
SERIALIZABLE_CONTEXT_KEYS = frozenset(
    {
        "ds", "ds_nodash", "expanded_ti_count", "map_index_template", "run_id", "task_instance_key_str",
        "test_mode", "ts", "ts_nodash", "ts_nodash_with_tz", "prev_ds", "prev_ds_nodash", "next_ds",
        "next_ds_nodash", "tomorrow_ds", "tomorrow_ds_nodash", "yesterday_ds", "yesterday_ds_nodash",
        "data_interval_start", "data_interval_end", "logical_date", "execution_date",
        "prev_data_interval_start_success", "prev_data_interval_end_success", "prev_start_date_success",
        "prev_end_date_success", "try_number", "params", "templates_dict",
    }
)  # fmt: skip
SERIALIZERS = ("pickle", "cloudpickle", "dill")
#: Pickle protocol both interpreters understand (any Python 3.4 or later).
_PROTOCOL = 4
_PLAIN = (type(None), bool, int, float, str, bytes, datetime, date, time, timedelta)
#: How much of a failed run's output an error message repeats.
_TAIL_LINES = 20

_SCRIPT = """\
import sys
import {serializer} as _serializer

{source}

with open(sys.argv[1], "rb") as _file:
    _call = _serializer.load(_file)
with open(sys.argv[3], encoding="utf-8") as _file:
    virtualenv_string_args = [line.rstrip("\\n") for line in _file]
try:
    _result = {name}(*_call["args"], **_call["kwargs"])
except Exception as _error:
    with open(sys.argv[4], "w", encoding="utf-8") as _file:
        _file.write(f"{{type(_error).__name__}}: {{_error}}")
    raise
with open(sys.argv[2], "wb") as _file:
    _serializer.dump(_result, _file, protocol={protocol})
"""


def _is_plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` unpickles without updraft installed (builtins and datetime values only)."""
    if type(value) in _PLAIN:
        return True
    if depth > 20:
        return False
    if type(value) in (list, tuple, set, frozenset):
        return all(_is_plain(item, depth + 1) for item in value)
    if isinstance(value, Mapping):
        return all(_is_plain(k, depth + 1) and _is_plain(v, depth + 1) for k, v in value.items())
    return False


def callable_source(func: Callable[..., Any]) -> str:
    """The source of ``func``'s ``def`` without decorators (such as ``@task.external_python``)."""
    name = getattr(func, "__name__", repr(func))
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise UpdraftException(f"cannot read the source of {name}(): {exc}") from None
    tree = ast.parse(source)
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise UpdraftException(f"the source of {name}() is not a function definition")
    lines = source.splitlines()
    return "\n".join(lines[node.lineno - 1 : node.end_lineno]) + "\n"


class ExternalPythonOperator(PythonOperator):
    """Call ``python_callable`` in the interpreter ``python`` (templated); see the module docstring."""

    template_fields: ClassVar[Sequence[str]] = ("python", "templates_dict", "op_args", "op_kwargs")
    shallow_copy_attrs: ClassVar[Sequence[str]] = ("python_callable",)

    def __init__(
        self,
        *,
        python: str,
        python_callable: Callable[..., Any],
        serializer: str | None = None,
        use_dill: bool = False,
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        string_args: Iterable[str] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        expect_airflow: bool = True,
        expect_pendulum: bool = False,
        skip_on_exit_code: int | Container | None = None,
        env_vars: dict[str, str] | None = None,
        inherit_env: bool = True,
        use_airflow_context: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            templates_dict=templates_dict,
            templates_exts=templates_exts,
            **kwargs,
        )
        where = f"{type(self).__name__} {self.task_id!r}"
        if not python:
            raise ValueError(f"{where}: python must name the interpreter to run the function with")
        if not inspect.isfunction(python_callable) or python_callable.__name__ == "<lambda>":
            raise ValueError(
                f"{where}: python_callable must be a function defined with def (not a lambda, "
                f"a method or another callable), got {python_callable!r}"
            )
        if inspect.iscoroutinefunction(python_callable) or inspect.isgeneratorfunction(python_callable):
            raise ValueError(f"{where}: python_callable must be a plain function, not async or a generator")
        if use_airflow_context:
            raise ValueError(
                f"{where}: use_airflow_context is not supported by Updraft: the function cannot reach "
                "the task context in another interpreter; take the values it needs as arguments"
            )
        serializer = serializer or ("dill" if use_dill else "pickle")
        if serializer not in SERIALIZERS:
            raise ValueError(
                f"{where}: serializer must be one of {', '.join(SERIALIZERS)}, got {serializer!r}"
            )
        self.python = python
        self.serializer = serializer
        self.string_args = [str(arg) for arg in string_args or ()]
        self.expect_airflow = expect_airflow  # accepted for Airflow DAG files; nothing to check
        self.expect_pendulum = expect_pendulum
        if skip_on_exit_code is None:
            self.skip_on_exit_code: Container = ()
        elif isinstance(skip_on_exit_code, int):
            self.skip_on_exit_code = (skip_on_exit_code,)
        else:
            self.skip_on_exit_code = skip_on_exit_code
        self.env_vars = env_vars
        self.inherit_env = inherit_env

    def _where(self) -> str:
        return f"{type(self).__name__} {self.task_id!r}" + (
            f" in DAG {self.dag_id!r}" if self.has_dag() else ""
        )

    def execute(self, context: Any) -> Any:
        plain: dict[str, Any] = {}
        for key in SERIALIZABLE_CONTEXT_KEYS:
            value = context.get(key)
            if key == "params" and isinstance(value, Mapping):
                value = dict(value)
            if key in context and _is_plain(value):
                plain[key] = value
        plain["templates_dict"] = self.templates_dict
        plain.update(self.op_kwargs)
        self._check_wanted_context(context, plain)
        return super().execute(plain)

    def _check_wanted_context(self, context: Mapping[str, Any], passed: Mapping[str, Any]) -> None:
        """Fail clearly when the function requires a context value that cannot cross interpreters."""
        positional = len(self.op_args)
        params = list(inspect.signature(self.python_callable).parameters.values())[positional:]
        for param in params:
            required = param.default is inspect.Parameter.empty and param.kind in (
                param.POSITIONAL_OR_KEYWORD,
                param.KEYWORD_ONLY,
            )
            if required and param.name not in passed and param.name in context:
                raise UpdraftException(
                    f"{self._where()}: {self.python_callable.__name__}() asks for the context value "
                    f"{param.name!r}, which cannot be passed to another interpreter; it may ask for "
                    f"{', '.join(sorted(SERIALIZABLE_CONTEXT_KEYS))}"
                )

    def determine_kwargs(self, context: Mapping[str, Any]) -> Mapping[str, Any]:
        return determine_kwargs(self.python_callable, self.op_args, context)

    def _interpreter(self) -> str:
        path = Path(os.path.expanduser(str(self.python)))
        if not path.is_absolute():
            raise ValueError(f"{self._where()}: python must be an absolute path, got {self.python!r}")
        if not path.is_file():
            raise ValueError(f"{self._where()}: the Python interpreter {str(path)!r} does not exist")
        return str(path)

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ) if self.inherit_env else {}
        env.update({str(k): str(v) for k, v in (self.env_vars or {}).items()})
        return env

    def execute_callable(self) -> Any:
        interpreter = self._interpreter()
        serializer = importlib.import_module(self.serializer)  # pickle, or an installed extra
        name = self.python_callable.__name__
        with tempfile.TemporaryDirectory(prefix="updraft-external-python-") as folder:
            tmp = Path(folder)
            script, arguments, result = tmp / "script.py", tmp / "arguments.pickle", tmp / "result.pickle"
            string_args, error = tmp / "string_args.txt", tmp / "error.txt"
            source = callable_source(self.python_callable)
            script.write_text(
                _SCRIPT.format(serializer=self.serializer, source=source, name=name, protocol=_PROTOCOL),
                encoding="utf-8",
            )
            with open(arguments, "wb") as out:
                serializer.dump(
                    {"args": list(self.op_args), "kwargs": dict(self.op_kwargs)}, out, protocol=_PROTOCOL
                )
            string_args.write_text("".join(f"{arg}\n" for arg in self.string_args), encoding="utf-8")
            command = [interpreter, str(script), str(arguments), str(result), str(string_args), str(error)]
            self.log.info("Running %s() with %s", name, interpreter)
            returncode, output = self._run(command, folder)
            if returncode != 0:
                self._fail(returncode, output, error)
            if not result.exists() or result.stat().st_size == 0:
                return None
            with open(result, "rb") as source_file:
                return serializer.load(source_file)

    def _run(self, command: list[str], cwd: str) -> tuple[int, list[str]]:
        """Run ``command``, logging its output line by line; the child is killed if this task stops."""
        tail: list[str] = []
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=self._environment(),
            text=True,
            errors="replace",
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:
                line = line.rstrip("\n")
                self.log.info("%s", line)
                tail = [*tail[-(_TAIL_LINES - 1) :], line]
            return process.wait(), tail
        finally:
            if process.poll() is None:  # interrupted (execution_timeout, a kill): stop the child too
                process.kill()
                process.wait()

    def _fail(self, returncode: int, output: list[str], error_file: Path) -> None:
        if returncode in self.skip_on_exit_code:
            raise UpdraftSkipException(
                f"{self._where()}: the function exited with code {returncode}; skipping"
            )
        reason = error_file.read_text(encoding="utf-8").strip() if error_file.exists() else ""
        detail = f": {reason}" if reason else ""
        shown = "\n".join(output[-_TAIL_LINES:])
        raise UpdraftException(
            f"{self._where()}: {self.python_callable.__name__}() failed in {self.python} "
            f"(exit code {returncode}){detail}" + (f"\nLast output:\n{shown}" if shown else "")
        )


class BranchExternalPythonOperator(BranchMixIn, ExternalPythonOperator):
    """The function (run in ``python``) returns the task id(s) to follow; other branches are skipped."""

    def execute(self, context: Any) -> Any:
        return self.do_branch(context, ExternalPythonOperator.execute(self, context))


# -- the operators behind @task.external_python / @task.branch_external_python -----------------------


class ExternalPythonDecoratedOperator(DecoratedOperator, ExternalPythonOperator):
    template_fields: ClassVar[Sequence[str]] = ("python", "templates_dict", "op_args", "op_kwargs")
    custom_operator_name = "@task.external_python"


class BranchExternalPythonDecoratedOperator(DecoratedOperator, BranchExternalPythonOperator):
    template_fields: ClassVar[Sequence[str]] = ("python", "templates_dict", "op_args", "op_kwargs")
    custom_operator_name = "@task.branch_external_python"
