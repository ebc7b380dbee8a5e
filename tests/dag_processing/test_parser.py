"""Parsing files in forked children, without a database: results, crashes and stopping early."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from updraft.core.dag_processing import ParserPool, parse_in_this_process

from .conftest import dag_source


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_file_parsed_here_gives_serialized_dags_and_its_hash(tmp_path: Path):
    path = write(tmp_path, "here.py", dag_source("here"))

    result = parse_in_this_process(path, timeout=5)

    assert result.error is None and result.dag_ids == ["here"]
    assert result.file_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.dags[0]["__version"] == 1 and result.dags[0]["dag"]["fileloc"] == str(path)


def test_the_pool_parses_every_file_in_children(tmp_path: Path):
    paths = [write(tmp_path, f"d{i}.py", dag_source(f"d{i}")) for i in range(5)]
    noisy = write(tmp_path, "noisy.py", 'print("hello from a DAG file")\n' + dag_source("noisy"))
    twice = write(tmp_path, "twice.py", dag_source("same") + dag_source("same"))

    results = {r.path: r for r in ParserPool(max_processes=2, timeout=5).parse([*paths, noisy, twice])}

    assert sorted(results) == sorted(str(p) for p in [*paths, noisy, twice])
    assert all(results[str(p)].dag_ids == [p.stem] for p in paths)
    assert results[str(noisy)].dag_ids == ["noisy"]  # printing does not disturb the result pipe
    assert "'same' is defined twice" in (results[str(twice)].error or "")


def test_a_segfault_is_reported_with_the_users_frames(tmp_path: Path):
    path = write(tmp_path, "crash.py", "import ctypes\nfrom updraft import DAG\nctypes.string_at(0)\n")

    [result] = ParserPool(timeout=5).parse([path])

    assert result.error is not None and result.dags == []
    assert "killed by signal SIGSEGV" in result.error
    assert f'File "{path}", line 3' in result.error


def test_stopping_kills_the_children_at_once(tmp_path: Path):
    paths = [
        write(tmp_path, f"slow{i}.py", "import time\nfrom updraft import DAG\ntime.sleep(30)\n")
        for i in range(3)
    ]
    started = time.monotonic()

    results = list(
        ParserPool(max_processes=2, timeout=60).parse(paths, lambda: time.monotonic() - started > 0.3)
    )

    assert results == [] and time.monotonic() - started < 3
