"""``updraft standalone`` serves the API and makes an ``admin`` user with a password file (mode 600)."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

UPDRAFT = str(Path(sys.executable).with_name("updraft"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_standalone_creates_admin_and_serves_api(db_url: str, updraft_home: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "UPDRAFT__API__PORT": str(port),
        "UPDRAFT__CORE__LOAD_EXAMPLES": "False",
        "UPDRAFT__CORE__DAGS_FOLDER": str(tmp_path),
    }
    proc = subprocess.Popen([UPDRAFT, "standalone"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        password_file = updraft_home / "standalone_admin_password.txt"
        deadline = time.monotonic() + 30
        dags = None
        while time.monotonic() < deadline and dags is None:
            time.sleep(0.3)
            if not password_file.exists():
                continue
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/v2/dags",
                    auth=("admin", password_file.read_text().strip()),
                    timeout=2,
                )
            except httpx.HTTPError:
                continue
            dags = response.json()
        assert dags == {"dags": [], "total_entries": 0}
        version = httpx.get(f"http://127.0.0.1:{port}/api/v2/version", timeout=2).json()
        assert version == {"version": "0.1.0", "git_version": None}
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
