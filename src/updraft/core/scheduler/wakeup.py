"""Waking a sleeping scheduler at once (a new run was triggered, a DAG unpaused) instead of
waiting for its next periodic check: a datagram to ``$UPDRAFT_HOME/scheduler.sock``."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from updraft.core.config import updraft_home


def socket_path() -> Path:
    return updraft_home() / "scheduler.sock"


#: A message that asks for a full look (new runs, new DAG versions, unpaused DAGs).
LOOK_AGAIN = b"w"
#: A task recorded asset events: look for DAGs whose asset condition now holds.
ASSETS_QUEUED = b"a"
_RUN_PREFIX = b"r:"


def _send(message: bytes) -> bool:
    path = socket_path()
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(message, str(path))
        except OSError:
            return False
    return True


def notify_scheduler() -> bool:
    """Best effort: True if a scheduler on this machine was told to look again."""
    return _send(LOOK_AGAIN)


def notify_run_changed(dag_id: str, run_id: str) -> bool:
    """A task of this run just recorded its outcome: only this run needs a look."""
    return _send(_RUN_PREFIX + dag_id.encode() + b"\0" + run_id.encode())


def notify_assets_queued() -> bool:
    """A task just recorded asset events: asset-scheduled DAGs may be due."""
    return _send(ASSETS_QUEUED)


class WakeupListener:
    """The scheduler's end: a non-blocking datagram socket to include in its ``select``."""

    def __init__(self) -> None:
        self.path = socket_path()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.setblocking(False)
        #: Set by ``drain`` when a task recorded asset events; the scheduler resets it.
        self.assets_queued = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def drain(self) -> tuple[bool, set[tuple[str, str]]]:
        """Read every pending message: (a full look was asked for, runs that changed)."""
        look_again = False
        runs: set[tuple[str, str]] = set()
        with contextlib.suppress(BlockingIOError, OSError):
            while True:
                message = self.sock.recv(1024)
                if not message:
                    break
                if message.startswith(_RUN_PREFIX) and b"\0" in message:
                    dag_id, run_id = message[len(_RUN_PREFIX) :].split(b"\0", 1)
                    runs.add((dag_id.decode(), run_id.decode()))
                elif message == ASSETS_QUEUED:
                    self.assets_queued = True
                else:
                    look_again = True
        return look_again, runs

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            if os.path.exists(self.path):
                self.path.unlink()
