"""``BashSensor``: poke by running a shell command; exit code 0 ends the wait."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from updraft.operators.sensors.base import BaseSensorOperator
from updraft.sdk.exceptions import UpdraftFailException

__all__ = ["BashSensor"]


class BashSensor(BaseSensorOperator):
    """Run ``bash_command`` (templated) in a temporary folder at each poke.

    Exit code 0: done. Without ``retry_exit_code`` any other code means "poke again"; with it,
    only that code does and every other one fails the task (no retry), as in Airflow. ``env``
    (templated) replaces the inherited environment when given.
    """

    template_fields: ClassVar[Sequence[str]] = ("bash_command", "env")
    template_fields_renderers: ClassVar[dict[str, str]] = {"bash_command": "bash", "env": "json"}

    def __init__(
        self,
        *,
        bash_command: str,
        env: Mapping[str, str] | None = None,
        output_encoding: str = "utf-8",
        retry_exit_code: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code

    def poke(self, context: Any) -> bool:
        env = {str(k): str(v) for k, v in self.env.items()} if self.env is not None else None
        with tempfile.TemporaryDirectory(prefix="updraft_sensor_") as folder:
            self.log.info("Running command: %s", self.bash_command)
            completed = subprocess.run(
                ["bash", "-c", self.bash_command],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                check=False,
            )
        output = completed.stdout.decode(self.output_encoding, errors="replace")
        for line in output.splitlines():
            self.log.info("%s", line)
        code = completed.returncode
        self.log.info("Command exited with return code %s", code)
        if code == 0:
            return True
        if self.retry_exit_code is not None and code != self.retry_exit_code:
            raise UpdraftFailException(
                f"sensor {self.task_id!r}: command exited with return code {code} "
                f"(only {self.retry_exit_code} means 'poke again')"
            )
        return False
