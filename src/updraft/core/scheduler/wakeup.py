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


def notify_scheduler() -> bool:
    """Best effort: True if a scheduler on this machine was told to look again."""
    path = socket_path()
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(b"w", str(path))
        except OSError:
            return False
    return True


class WakeupListener:
    """The scheduler's end: a non-blocking datagram socket to include in its ``select``."""

    def __init__(self) -> None:
        self.path = socket_path()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while self.sock.recv(64):
                pass

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            if os.path.exists(self.path):
                self.path.unlink()
