"""Finding and importing DAG files: the DAGs they define, and one import error per broken file.

A file that raises, defines a cycle, reuses a task id, leaves a task outside any DAG or takes
longer than ``core.dagbag_import_timeout`` becomes an import error naming the file; the other
files still load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from updraft.core.alarms import raise_after
from updraft.core.config import conf
from updraft.sdk import contexts
from updraft.sdk.abstractoperator import AbstractOperator
from updraft.sdk.dag import DAG
from updraft.sdk.exceptions import DagDefinitionError
from updraft.sdk.mapping import OperatorPartial

EXAMPLE_DAGS_FOLDER = Path(__file__).resolve().parent.parent / "example_dags"


class DagImportTimeout(Exception):
    """A DAG file took longer than core.dagbag_import_timeout to import."""


@dataclass
class DagBag:
    """The DAGs found in a set of files, and the files that failed."""

    dags: dict[str, DAG] = field(default_factory=dict)
    import_errors: dict[str, str] = field(default_factory=dict)
    file_hashes: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def get_dag(self, dag_id: str) -> DAG | None:
        return self.dags.get(dag_id)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def might_contain_dag(path: Path) -> bool:
    """Airflow's safe mode: only import ``.py`` files that mention "dag" at all."""
    try:
        content = path.read_bytes()
    except OSError:
        return False
    return b"dag" in content.lower()


def _ignore_patterns(folder: Path) -> list[str]:
    ignore_file = folder / ".updraftignore"
    if not ignore_file.is_file():
        return []
    lines = ignore_file.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def list_dag_files(folder: Path, safe_mode: bool = True) -> list[Path]:
    """Every candidate DAG file under ``folder`` (recursive), honouring ``.updraftignore`` globs."""
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        return []
    patterns = _ignore_patterns(folder)
    found = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(folder).parts):
            continue
        if any(
            Path(relative).match(pattern) or relative.startswith(pattern.rstrip("/") + "/")
            for pattern in patterns
        ):
            continue
        if safe_mode and not might_contain_dag(path):
            continue
        found.append(path)
    return found


def _time_limit(seconds: float, path: Path) -> AbstractContextManager[None]:
    return raise_after(
        seconds if seconds > 0 else None,
        lambda: DagImportTimeout(
            f"importing {path} took longer than {seconds:g}s (core.dagbag_import_timeout)"
        ),
    )


def _module_name(path: Path) -> str:
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    return f"updraft_dagfile_{digest}_{path.stem}"


def _user_traceback(exc: BaseException, path: Path) -> str:
    """The traceback from the user's file onwards (frames of the import machinery dropped)."""
    frames = traceback.extract_tb(exc.__traceback__)
    start = next((i for i, frame in enumerate(frames) if frame.filename == str(path)), 0)
    lines = traceback.format_list(frames[start:])
    lines += traceback.format_exception_only(type(exc), exc)
    return "Traceback (most recent call last):\n" + "".join(lines)


def _import_module(path: Path) -> ModuleType:
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _check_created_objects(created: Iterable[object]) -> None:
    """Tasks left outside any DAG and partials never expanded are errors in the file."""
    for obj in created:
        if isinstance(obj, OperatorPartial) and not obj.expanded:
            raise DagDefinitionError(
                f"task {obj.kwargs.get('task_id')!r}: partial() was called but never expanded; "
                "finish it with .expand(...) or .expand_kwargs(...)"
            )
        if isinstance(obj, AbstractOperator) and obj.dag is None:
            where = f" (created at {obj.created_at})" if obj.created_at else ""
            raise DagDefinitionError(
                f"task {obj.task_id!r}{where} is not attached to any DAG: create it inside "
                "`with DAG(...)` or a @dag function, or pass dag="
            )


def apply_airflow_compat() -> bool:
    """Let DAG files ``import airflow`` (unless ``core.airflow_compat`` is off); True when active."""
    from updraft import compat

    if conf.getboolean("core", "airflow_compat", fallback=True):
        return compat.install()
    compat.uninstall()
    return False


def load_file(path: Path, timeout: float = 30.0) -> tuple[list[DAG], str | None]:
    """Import one DAG file. Returns its DAGs, or an error message naming the file."""
    apply_airflow_compat()
    tracker = contexts.start_tracking()
    try:
        with _time_limit(timeout, path):
            module = _import_module(path)
        created = tracker.alive()
        found: list[DAG] = []
        for obj in [*vars(module).values(), *created]:
            if isinstance(obj, DAG) and all(obj is not other for other in found):
                found.append(obj)
        for dag in found:
            dag.fileloc = str(path)
            dag.validate()
        _check_created_objects(created)
        return found, None
    except DagImportTimeout as exc:
        return [], f"{path}: {exc}"
    except DagDefinitionError as exc:
        return [], f"{path}: {exc}"
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code is an import error
        return [], f"{path}: {type(exc).__name__}: {exc}\n{_user_traceback(exc, path)}"
    finally:
        contexts.stop_tracking(tracker)


def load_dagbag(
    folders: Iterable[Path], *, safe_mode: bool = True, timeout: float = 30.0, only_dag_id: str | None = None
) -> DagBag:
    """Import every DAG file in ``folders``; a broken file becomes an import error, the rest load."""
    bag = DagBag()
    for folder in folders:
        folder = folder.resolve()
        if folder.is_dir() and str(folder) not in sys.path:
            sys.path.append(str(folder))
        for path in list_dag_files(folder, safe_mode=safe_mode):
            key = str(path)
            bag.files.append(key)
            bag.file_hashes[key] = file_hash(path)
            if only_dag_id is not None and only_dag_id.encode() not in path.read_bytes():
                # A file that never spells the dag_id cannot define it with a literal id; still
                # import it if no file does (DAG factories), see below.
                continue
            _add_file(bag, path, timeout)
        if only_dag_id is not None and only_dag_id not in bag.dags:
            for key in bag.files:
                path = Path(key)
                if only_dag_id.encode() not in path.read_bytes() and key not in bag.import_errors:
                    _add_file(bag, path, timeout)
    return bag


def _add_file(bag: DagBag, path: Path, timeout: float) -> None:
    key = str(path)
    dags, error = load_file(path, timeout)
    if error is not None:
        bag.import_errors[key] = error
        return
    for dag in dags:
        existing = bag.dags.get(dag.dag_id)
        if existing is not None and existing.fileloc != dag.fileloc:
            bag.import_errors[key] = (
                f"{key}: DAG {dag.dag_id!r} is already defined in {existing.fileloc}; dag_ids must be unique"
            )
            return
    for dag in dags:
        bag.dags[dag.dag_id] = dag
