"""The DAG processor: keeps the metadata DB in step with the DAG files on disk.

One pass (:meth:`DagProcessorManager.run_once`) lists the DAG folders (recursively, honouring
``.updraftignore`` and safe mode), hashes every file, and parses in child processes the files that
are new, changed (their hash differs from the last parse), or last parsed longer ago than
``dag_processor.min_file_process_interval``. Results are stored in one transaction per batch:
each DAG as a new serialized version when it changed, each broken file as an import error (its
DAGs keep their last good version and are flagged ``has_import_errors``). DAGs whose file is gone,
or that a re-parsed file no longer defines, become inactive; their runs and versions stay. A DAG
that comes back is active again. The scheduler is woken when a pass stored anything new.

:meth:`DagProcessorManager.run_forever` repeats passes, sleeping up to
``dag_processor.refresh_interval`` between them; :func:`start_dag_processor_process` runs that in a
forked process for the scheduler.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError

from updraft.core.config import conf
from updraft.core.dag_processing.parser import ParseResult, ParserPool, preload_modules
from updraft.core.dag_store import (
    deactivate_dags,
    mark_import_errors,
    sync_import_errors,
    sync_serialized_dags,
)
from updraft.core.dagbag import EXAMPLE_DAGS_FOLDER, file_hash, list_dag_files
from updraft.core.db.engine import dispose_engines, get_engine
from updraft.core.db.models import DagModel, ParseImportError
from updraft.core.scheduler.wakeup import notify_scheduler
from updraft.core.sdk_settings import configure_sdk

__all__ = [
    "DagProcessorManager",
    "PassStats",
    "StopEvent",
    "processor_folders",
    "start_dag_processor_process",
]

log = logging.getLogger(__name__)

_BATCH_FILES = 200  # results stored per transaction at most
_BATCH_SECONDS = 1.0  # ... or after this long, so a slow pass still shows progress
_MIN_SLEEP_S = 0.5
_SLICE_S = 0.2  # longest sleep between two checks of the stop request


class StopEvent(Protocol):
    """What tells a running processor to stop: a threading or multiprocessing Event."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass
class PassStats:
    """What one pass saw and did."""

    files: int = 0  # DAG files listed
    parsed: int = 0  # files parsed in this pass
    dags: int = 0  # DAGs defined by the listed files (as of their last good parse)
    errors: int = 0  # listed files whose last parse failed
    new_dags: int = 0  # DAGs stored for the first time, or active again
    new_versions: int = 0  # serialized versions written
    deactivated: int = 0  # DAGs taken off the list (file gone, or no longer defined)
    duration: float = 0.0
    failed_files: list[str] = field(default_factory=list)  # files that failed in this pass


@dataclass
class _FileState:
    file_hash: str | None
    last_parsed: float  # time.monotonic() of the last parse
    dag_ids: frozenset[str] = frozenset()  # what the last successful parse defined
    error: bool = False


def processor_folders(subdir: str | Path | None = None, include_examples: bool | None = None) -> list[Path]:
    """The folders to scan: ``subdir`` (default ``core.dags_folder``), plus the examples if loaded."""
    folder = Path(subdir or conf.get("core", "dags_folder")).expanduser().resolve()
    folders = [folder]
    if include_examples if include_examples is not None else conf.getboolean("core", "load_examples"):
        folders.append(EXAMPLE_DAGS_FOLDER)
    return folders


def _is_under(path: str, folders: Sequence[Path]) -> bool:
    return any(path == str(folder) or path.startswith(f"{folder}/") for folder in folders)


class DagProcessorManager:
    """Parses the DAG files of some folders into the metadata DB, pass after pass.

    Settings come from the config when the manager is made: ``core.dagbag_import_timeout``,
    ``core.dags_are_paused_at_creation``, ``dag_processor.parsing_processes``,
    ``dag_processor.min_file_process_interval`` and ``dag_processor.refresh_interval``.
    """

    def __init__(self, folders: Sequence[Path] | None = None, *, engine: Engine | None = None) -> None:
        self.folders = [Path(f).resolve() for f in (folders if folders is not None else processor_folders())]
        # DAGs under these folders whose file is not listed are gone: the examples are "ours" even
        # when not loaded, so that turning core.load_examples off takes them off the list.
        self.owned_folders = [*self.folders, EXAMPLE_DAGS_FOLDER]
        self.engine = engine if engine is not None else get_engine()
        self.timeout = conf.getfloat("core", "dagbag_import_timeout")
        self.paused_at_creation = conf.getboolean("core", "dags_are_paused_at_creation")
        self.min_file_process_interval = conf.getfloat("dag_processor", "min_file_process_interval")
        self.refresh_interval = conf.getfloat("dag_processor", "refresh_interval")
        self.pool = ParserPool(conf.getint("dag_processor", "parsing_processes"), self.timeout)
        self._files: dict[str, _FileState] = {}
        self._owner: dict[str, str] = {}  # dag_id -> file that defines it
        self._stop_event: StopEvent | None = None
        self._stop_requested = False
        self.failed_passes = 0  # passes that ended in a database error (run_forever logs them)
        configure_sdk()
        preload_modules()
        for folder in self.folders:
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.append(str(folder))  # DAG files import their helper modules from here

    # -- stopping ----------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the running pass or loop to stop soon; safe to call from a signal handler."""
        self._stop_requested = True

    def should_stop(self) -> bool:
        return self._stop_requested or (self._stop_event is not None and self._stop_event.is_set())

    # -- one pass ----------------------------------------------------------------------------------

    def list_files(self) -> dict[str, str]:
        """Every DAG file now in the folders, with its content hash (unreadable files left out)."""
        hashes: dict[str, str] = {}
        for folder in self.folders:
            for path in list_dag_files(folder, safe_mode=True):
                try:
                    hashes.setdefault(str(path), file_hash(path))
                except OSError:
                    continue  # deleted while we looked
        return hashes

    def due_files(self, hashes: dict[str, str], now: float) -> list[Path]:
        """Files to parse now: new or changed ones first, then those parsed longest ago."""
        fresh, stale = [], []
        for key, digest in hashes.items():
            state = self._files.get(key)
            if state is None or state.file_hash != digest:
                fresh.append(key)
            elif now - state.last_parsed >= self.min_file_process_interval:
                stale.append((state.last_parsed, key))
        return [Path(key) for key in fresh] + [Path(key) for _, key in sorted(stale)]

    def run_once(self) -> PassStats:
        """List, parse what is due, store the results and forget vanished files."""
        started = time.monotonic()
        stats = PassStats()
        hashes = self.list_files()
        stats.deactivated += self._forget_missing(hashes)
        batch: list[ParseResult] = []
        flushed = time.monotonic()
        with closing(self.pool.parse(self.due_files(hashes, started), self.should_stop)) as results:
            for result in results:
                batch.append(result)
                if len(batch) >= _BATCH_FILES or time.monotonic() - flushed >= _BATCH_SECONDS:
                    self._store(batch, hashes, stats)
                    batch, flushed = [], time.monotonic()
        if batch:
            self._store(batch, hashes, stats)
        listed = [self._files[key] for key in hashes if key in self._files]
        stats.files = len(hashes)
        stats.dags = sum(len(state.dag_ids) for state in listed)
        stats.errors = sum(state.error for state in listed)
        stats.duration = time.monotonic() - started
        if stats.new_dags or stats.new_versions:
            notify_scheduler()
        log.log(
            logging.INFO if stats.parsed or stats.deactivated else logging.DEBUG,  # quiet when idle
            "DAG processor pass: %d files (%d parsed), %d DAGs, %d import errors in %.2fs",
            stats.files, stats.parsed, stats.dags, stats.errors, stats.duration,
        )  # fmt: skip
        return stats

    def _claim(self, result: ParseResult, claimed: set[str]) -> None:
        """A dag_id already defined by another file (still defining it, or earlier in this batch)
        makes this file's parse an error."""
        if result.error is not None:
            return
        for dag_id in result.dag_ids:
            owner = self._owner.get(dag_id)
            state = self._files.get(owner) if owner is not None else None
            if owner not in (None, result.path) and (
                owner in claimed or (state is not None and dag_id in state.dag_ids)
            ):
                result.error = (
                    f"{result.path}: DAG {dag_id!r} is already defined in {owner}; dag_ids must be unique"
                )
                result.dags = []
                return
        for dag_id in result.dag_ids:
            self._owner[dag_id] = result.path
        claimed.add(result.path)

    def _store(self, batch: list[ParseResult], hashes: dict[str, str], stats: PassStats) -> None:
        """Write one batch of results in one transaction, then remember what was stored."""
        batch.sort(key=lambda r: r.path)  # children finish in any order; claims go by path
        claimed: set[str] = set()
        for result in batch:
            self._claim(result, claimed)
        good = [r for r in batch if r.error is None]
        errors = {r.path: r.error for r in batch if r.error is not None}
        defined = {r.path: set(r.dag_ids) for r in good}
        with self.engine.begin() as conn:
            stored = sync_serialized_dags(
                conn, [(data, r.file_hash) for r in good for data in r.dags], self.paused_at_creation
            )
            sync_import_errors(conn, [r.path for r in batch], errors)
            mark_import_errors(conn, errors)
            gone = []
            if defined:
                rows = conn.execute(
                    select(DagModel.dag_id, DagModel.fileloc).where(
                        DagModel.fileloc.in_(list(defined)), DagModel.is_active.is_(True)
                    )
                )
                gone = [row.dag_id for row in rows if row.dag_id not in defined[row.fileloc]]
            deactivate_dags(conn, gone)
        now = time.monotonic()
        for result in batch:
            previous = self._files.get(result.path)
            dag_ids = frozenset(result.dag_ids) if result.error is None else None
            if dag_ids is None:
                dag_ids = previous.dag_ids if previous is not None else frozenset()
                log.warning("Import error in %s", next(iter((result.error or "").splitlines()), "?"))
            self._files[result.path] = _FileState(
                result.file_hash or hashes.get(result.path), now, dag_ids, result.error is not None
            )
        for dag_id in gone:
            if self._owner.get(dag_id) in defined:
                del self._owner[dag_id]
        stats.parsed += len(batch)
        stats.failed_files.extend(errors)
        stats.new_dags += sum(s.created or s.reactivated for s in stored.values())
        stats.new_versions += sum(s.new_version for s in stored.values())
        stats.deactivated += len(gone)

    def _forget_missing(self, hashes: dict[str, str]) -> int:
        """Deactivate the DAGs of files no longer listed, and drop those files' import errors."""
        for key in [key for key in self._files if key not in hashes]:
            del self._files[key]
        self._owner = {dag_id: f for dag_id, f in self._owner.items() if f in hashes}
        with self.engine.begin() as conn:
            active = conn.execute(
                select(DagModel.dag_id, DagModel.fileloc).where(DagModel.is_active.is_(True))
            ).all()
            gone = [
                row.dag_id
                for row in active
                if row.fileloc and row.fileloc not in hashes and _is_under(row.fileloc, self.owned_folders)
            ]
            deactivate_dags(conn, gone)
            errors = conn.execute(select(ParseImportError.id, ParseImportError.filename)).all()
            obsolete = [
                row.id
                for row in errors
                if row.filename not in hashes and _is_under(row.filename, self.owned_folders)
            ]
            for start in range(0, len(obsolete), 500):
                chunk = obsolete[start : start + 500]
                conn.execute(delete(ParseImportError).where(ParseImportError.id.in_(chunk)))
        if gone:
            log.info("Deactivated %d DAGs whose files are gone: %s", len(gone), ", ".join(sorted(gone)))
        return len(gone)

    # -- the loop ----------------------------------------------------------------------------------

    def next_wait(self) -> float:
        """Seconds until the next pass: the next file due, at most ``refresh_interval``."""
        wait = self.refresh_interval
        if self._files:
            oldest = min(state.last_parsed for state in self._files.values())
            wait = min(wait, oldest + self.min_file_process_interval - time.monotonic())
        return max(_MIN_SLEEP_S, wait)

    def run_forever(
        self,
        stop_event: StopEvent | None = None,
        *,
        max_runs: int | None = None,
        on_pass: Callable[[PassStats], None] | None = None,
    ) -> None:
        """Run passes until ``stop_event`` is set, :meth:`request_stop` is called or ``max_runs``."""
        self._stop_event = stop_event
        runs = 0
        while not self.should_stop():
            runs += 1
            try:
                stats = self.run_once()
            except SQLAlchemyError:
                # The DB went away or a concurrent writer won a race: nothing of the failed batch
                # was committed, and its files have no recorded parse, so the next pass redoes them.
                self.failed_passes += 1
                log.exception("DAG processor pass failed; retrying in %.1fs", self.refresh_interval)
            else:
                if on_pass is not None:
                    on_pass(stats)
            if max_runs is not None and runs >= max_runs:
                return
            self._sleep(self.next_wait())

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.should_stop():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._stop_event is not None:
                self._stop_event.wait(min(remaining, _SLICE_S))
            else:
                time.sleep(min(remaining, _SLICE_S))


def _processor_process_main(stop_event: StopEvent, subdir: str | None, parent_pid: int) -> None:
    from updraft.core.executors.fork_server import set_parent_death_signal

    manager: DagProcessorManager | None = None
    stop_requested = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        if manager is not None:
            manager.request_stop()

    # First of all: the handlers inherited from the parent (the scheduler's) must not run here.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # When the scheduler dies (even by SIGKILL) this process stops too instead of parsing forever.
    set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent_pid:
        stop_requested = True
    dispose_engines()  # never reuse the parent's pooled connections
    try:
        manager = DagProcessorManager(processor_folders(subdir))
        if stop_requested:
            manager.request_stop()
        manager.run_forever(stop_event)
    finally:
        dispose_engines()


def start_dag_processor_process(stop_event: StopEvent, subdir: str | None = None) -> BaseProcess:
    """Fork a process that runs the DAG processor until ``stop_event`` is set (or SIGTERM).

    ``stop_event`` must be shareable with a forked process (``multiprocessing.Event()``). The caller
    should set it, then ``join()`` the process; the process kills its parsing children on the way out.
    """
    context = multiprocessing.get_context("fork")
    process = context.Process(
        target=_processor_process_main,
        args=(stop_event, subdir, os.getpid()),
        name="updraft-dag-processor",
        daemon=True,
    )
    process.start()
    return process
