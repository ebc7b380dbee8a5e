"""BashOperator: output, exit codes, environment, cwd, script files, and cleanup when interrupted."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.operators.helpers import run_task
from updraft.operators.bash import BashOperator
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import UpdraftException, UpdraftSkipException


def make_dag(**kwargs: object) -> DAG:
    return DAG("bash_dag", schedule=None, **kwargs)  # type: ignore[arg-type]


def test_returns_last_stdout_line_not_stderr() -> None:
    with make_dag():
        op = BashOperator(task_id="t", bash_command="echo first; echo second; echo oops >&2")
    outcome = run_task(op)
    assert outcome.result == "second"
    assert outcome.ti.xcoms[("t", -1, "return_value")] == "second"


def test_output_without_trailing_newline_and_empty_output() -> None:
    with make_dag():
        partial = BashOperator(task_id="partial", bash_command="printf 'a\\nlast'")
        silent = BashOperator(task_id="silent", bash_command="true")
    assert run_task(partial).result == "last"
    assert run_task(silent).result == ""


def test_non_zero_exit_names_code_and_stderr_tail() -> None:
    with make_dag():
        op = BashOperator(task_id="t", bash_command="for i in $(seq 1 30); do echo line$i >&2; done; exit 3")
    with pytest.raises(UpdraftException) as info:
        run_task(op)
    message = str(info.value)
    assert "non-zero exit code 3" in message
    assert "line30" in message and "line11" in message
    assert "line10\n" not in message  # only the tail is quoted


def test_exit_99_skips_by_default_and_skip_codes_are_configurable() -> None:
    with make_dag():
        default = BashOperator(task_id="default", bash_command="exit 99")
        custom = BashOperator(task_id="custom", bash_command="exit 7", skip_on_exit_code=[7, 8])
        never = BashOperator(task_id="never", bash_command="exit 99", skip_on_exit_code=None)
    with pytest.raises(UpdraftSkipException):
        run_task(default)
    with pytest.raises(UpdraftSkipException):
        run_task(custom)
    with pytest.raises(UpdraftException) as info:
        run_task(never)
    assert not isinstance(info.value, UpdraftSkipException)


def test_env_replaces_environment_unless_append_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDRAFT_TEST_OUTER", "outer")
    command = 'echo "${UPDRAFT_TEST_OUTER:-unset}-${MINE:-unset}-$AIRFLOW_CTX_TASK_ID"'
    with make_dag():
        inherit = BashOperator(task_id="inherit", bash_command=command)
        replace = BashOperator(task_id="replace", bash_command=command, env={"MINE": "m"})
        append = BashOperator(task_id="append", bash_command=command, env={"MINE": "m"}, append_env=True)
    assert run_task(inherit).result == "outer-unset-inherit"
    assert run_task(replace).result == "unset-m-replace"
    assert run_task(append).result == "outer-m-append"


def test_env_values_are_templated_and_context_vars_exported() -> None:
    with make_dag():
        op = BashOperator(
            task_id="t",
            bash_command='echo "$DAY $AIRFLOW_CTX_DAG_ID $AIRFLOW_CTX_DAG_RUN_ID $AIRFLOW_CTX_TRY_NUMBER"',
            env={"DAY": "{{ ds }}"},
        )
    outcome = run_task(op)
    assert outcome.result == f"2024-03-05 bash_dag {outcome.context['run_id']} 1"


def test_non_string_env_value_is_a_clear_error() -> None:
    with make_dag():
        op = BashOperator(task_id="t", bash_command="true", env={"N": 1})  # type: ignore[dict-item]
    with pytest.raises(UpdraftException, match="'N' must be a string"):
        run_task(op)


def test_cwd(tmp_path: Path) -> None:
    with make_dag():
        explicit = BashOperator(task_id="explicit", bash_command="pwd", cwd=str(tmp_path))
        temporary = BashOperator(task_id="temporary", bash_command="pwd")
        missing = BashOperator(task_id="missing", bash_command="pwd", cwd=str(tmp_path / "nope"))
    assert run_task(explicit).result == str(tmp_path)
    temp_dir = run_task(temporary).result
    assert "updrafttmp" in temp_dir and not os.path.exists(temp_dir)
    with pytest.raises(UpdraftException, match="cannot find the cwd"):
        run_task(missing)


def test_script_file_is_rendered_as_template(tmp_path: Path) -> None:
    (tmp_path / "greet.sh").write_text('echo "hello {{ params.who }} on {{ ds }}"\necho "$0"\n')
    with make_dag(template_searchpath=[str(tmp_path)], params={"who": "world"}):
        op = BashOperator(task_id="t", bash_command="greet.sh", cwd=str(tmp_path))
    outcome = run_task(op)
    assert outcome.task.bash_command.startswith('echo "hello world on 2024-03-05"')
    # It ran as a script file written into cwd (and removed afterwards).
    assert outcome.result.endswith(".sh")
    assert not (tmp_path / outcome.result).exists()


def test_output_encoding_and_processor() -> None:
    with make_dag():
        latin = BashOperator(task_id="latin", bash_command="printf 'caf\\xe9\\n'", output_encoding="latin-1")
        utf8 = BashOperator(task_id="utf8", bash_command="printf 'caf\\xe9\\n'")
        processed = BashOperator(
            task_id="processed", bash_command="echo '{\"a\": 1}'", output_processor=lambda s: s.upper()
        )
    assert run_task(latin).result == "café"
    assert run_task(utf8).result == "caf\\xe9"
    assert run_task(processed).result == '{"A": 1}'


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _wait_dead(pids: list[int], timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


class _Timeout(Exception):
    pass


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    command = f"echo $$ > {pidfile}; sleep 60 & echo $! >> {pidfile}; sleep 60"
    with make_dag():
        op = BashOperator(task_id="t", bash_command=command)

    def on_alarm(signum: int, frame: object) -> None:
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(_Timeout):
            run_task(op)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 10
    pids = [int(line) for line in pidfile.read_text().split()]
    assert len(pids) == 2
    assert _wait_dead(pids) == []


def test_on_kill_terminates_running_command(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    with make_dag():
        op = BashOperator(task_id="t", bash_command=f"echo $$ > {pidfile}; sleep 60")

    copy = op.prepare_for_execution()

    def on_alarm(signum: int, frame: object) -> None:
        copy.on_kill()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        from tests.operators.helpers import make_context

        context = make_context(copy)
        copy.render_template_fields(context)
        with pytest.raises(UpdraftException, match="non-zero exit code"):
            copy.execute(context)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert _wait_dead([int(pidfile.read_text())]) == []


def test_empty_command_is_rejected() -> None:
    with make_dag():
        op = BashOperator(task_id="t", bash_command="   ")
    with pytest.raises(UpdraftException, match="non-empty"):
        run_task(op)
