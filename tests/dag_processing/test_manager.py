"""The DAG processor against a real metadata DB (SQLite and PostgreSQL): what one pass stores,
when files are parsed again, and what happens to DAGs whose files change, break or disappear."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from updraft.core.dag_processing import DagProcessorManager, processor_folders
from updraft.core.dag_processing import manager as manager_module
from updraft.core.dagbag import EXAMPLE_DAGS_FOLDER
from updraft.core.db.models import DagCode, DagModel, DagRun, DagTag, SerializedDagModel

from .conftest import DagFolder, dag_source

Factory = Callable[..., DagProcessorManager]


def test_a_new_file_is_stored_as_version_1_with_its_hash(dag_folder: DagFolder, make_manager: Factory):
    path = dag_folder.write("first.py", dag_source("first", tags=["b", "a"]))

    stats = make_manager().run_once()

    assert (stats.files, stats.parsed, stats.dags, stats.errors, stats.new_dags) == (1, 1, 1, 0, 1)
    row = dag_folder.dag("first")
    assert row.is_active and not row.has_import_errors and row.is_paused  # paused at creation
    assert row.fileloc == str(path) and row.last_parsed_time is not None
    assert row.timetable_summary == "0 0 * * *"
    [(version, file_hash, data)] = dag_folder.versions("first")
    assert version == 1
    assert file_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data["dag"]["dag_id"] == "first" and {t["task_id"] for t in data["dag"]["tasks"]} == {
        "start",
        "hello",
    }
    with dag_folder.engine.connect() as conn:
        assert sorted(conn.scalars(select(DagTag.name).where(DagTag.dag_id == "first"))) == ["a", "b"]
        assert (
            conn.scalar(select(DagCode.source_code).where(DagCode.fileloc == str(path))) == path.read_text()
        )
    assert dag_folder.import_errors() == {}


def test_an_unchanged_file_parsed_again_adds_no_version(dag_folder: DagFolder, make_manager: Factory):
    dag_folder.write("same.py", dag_source("same"))
    manager = make_manager()  # min_file_process_interval is 0: every pass parses every file
    manager.run_once()
    stats = manager.run_once()

    assert stats.parsed == 1 and stats.new_versions == 0 and stats.new_dags == 0
    assert [v.version for v in dag_folder.versions("same")] == [1]


def test_an_unchanged_file_is_not_parsed_again_within_the_interval(
    dag_folder: DagFolder, make_manager: Factory, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("UPDRAFT__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL", "30")
    path = dag_folder.write("quiet.py", dag_source("quiet"))
    manager = make_manager()
    manager.run_once()

    assert manager.run_once().parsed == 0  # only the hash was checked
    path.write_text(dag_source("quiet", tags=["changed"]))
    stats = manager.run_once()  # a changed hash is parsed at once, interval or not
    assert stats.parsed == 1 and stats.new_versions == 1


def test_an_edited_file_gets_version_2(dag_folder: DagFolder, make_manager: Factory):
    path = dag_folder.write("edited.py", dag_source("edited"))
    manager = make_manager()
    manager.run_once()
    path.write_text(dag_source("edited", tags=["v2"]))

    stats = manager.run_once()

    assert stats.new_versions == 1
    versions = dag_folder.versions("edited")
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].file_hash == hashlib.sha256(path.read_bytes()).hexdigest() != versions[0].file_hash
    assert versions[1].data["dag"]["tags"] == ["v2"]
    with dag_folder.engine.connect() as conn:
        assert "v2" in conn.scalar(select(DagCode.source_code).where(DagCode.fileloc == str(path)))


def test_a_broken_file_keeps_the_last_good_version_until_fixed(dag_folder: DagFolder, make_manager: Factory):
    path = dag_folder.write("fragile.py", dag_source("fragile"))
    manager = make_manager()
    manager.run_once()
    path.write_text(dag_source("fragile") + "\nthis is not python(\n")

    stats = manager.run_once()

    assert stats.errors == 1 and stats.failed_files == [str(path)]
    error = dag_folder.import_errors()["fragile.py"]
    assert "SyntaxError" in error and str(path) in error
    row = dag_folder.dag("fragile")
    assert row.is_active and row.has_import_errors
    assert [v.version for v in dag_folder.versions("fragile")] == [1]

    path.write_text(dag_source("fragile", tags=["fixed"]))
    stats = manager.run_once()

    assert stats.errors == 0 and dag_folder.import_errors() == {}
    row = dag_folder.dag("fragile")
    assert row.is_active and not row.has_import_errors
    assert [v.version for v in dag_folder.versions("fragile")] == [1, 2]


def test_a_deleted_file_deactivates_its_dags_and_keeps_their_history(
    dag_folder: DagFolder, make_manager: Factory
):
    path = dag_folder.write("doomed.py", dag_source("doomed"))
    dag_folder.write("keeper.py", dag_source("keeper"))
    broken = dag_folder.write("broken.py", "from updraft import DAG\nraise RuntimeError('boom')\n")
    manager = make_manager()
    manager.run_once()
    with dag_folder.engine.begin() as conn:
        conn.execute(
            insert(DagRun),
            {"dag_id": "doomed", "run_id": "manual_1", "run_type": "manual", "state": "success",
             "logical_date": datetime(2024, 1, 2, tzinfo=timezone.utc)},
        )  # fmt: skip
    source = path.read_text()
    path.unlink()
    broken.unlink()

    stats = manager.run_once()

    assert stats.deactivated == 1 and stats.files == 1
    assert not dag_folder.dag("doomed").is_active and dag_folder.dag("keeper").is_active
    assert dag_folder.import_errors() == {}  # the broken file is gone, so is its error
    assert [v.version for v in dag_folder.versions("doomed")] == [1]
    with dag_folder.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(DagRun).where(DagRun.dag_id == "doomed")) == 1

    path.write_text(source)
    stats = manager.run_once()
    assert dag_folder.dag("doomed").is_active and stats.new_dags == 1
    assert [v.version for v in dag_folder.versions("doomed")] == [1]


def test_a_restarted_processor_deactivates_dags_whose_files_went_away(
    dag_folder: DagFolder, make_manager: Factory, tmp_path: Path
):
    path = dag_folder.write("old.py", dag_source("old"))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "other.py").parent.mkdir()
    (elsewhere / "other.py").write_text(dag_source("other"))
    make_manager().run_once()
    make_manager([elsewhere]).run_once()  # another folder's DAG, not this processor's business
    path.unlink()

    make_manager().run_once()  # a new processor: it never saw old.py

    assert not dag_folder.dag("old").is_active
    assert dag_folder.dag("other").is_active


def test_a_dag_removed_from_a_file_becomes_inactive(dag_folder: DagFolder, make_manager: Factory):
    path = dag_folder.write("pair.py", dag_source("left") + dag_source("right").replace("dag:", "dag2:"))
    manager = make_manager()
    assert manager.run_once().dags == 2
    path.write_text(dag_source("left"))

    stats = manager.run_once()

    assert stats.dags == 1 and stats.deactivated == 1
    assert dag_folder.dag("left").is_active and not dag_folder.dag("right").is_active


def test_a_dag_moved_to_another_file_stays_active(dag_folder: DagFolder, make_manager: Factory):
    old = dag_folder.write("old_home.py", dag_source("mover"))
    manager = make_manager()
    manager.run_once()
    (dag_folder.path / "sub").mkdir()
    old.rename(dag_folder.path / "sub" / "new_home.py")

    manager.run_once()

    row = dag_folder.dag("mover")
    assert row.is_active and row.fileloc == str(dag_folder.path / "sub" / "new_home.py")


def test_hanging_and_crashing_files_become_import_errors_and_the_rest_is_stored(
    dag_folder: DagFolder, make_manager: Factory
):
    dag_folder.write("endless.py", "from updraft import DAG\nwhile True:\n    pass\n")
    dag_folder.write(
        "deaf.py",  # ignores the alarm: the processor must kill it
        "import signal\nfrom updraft import DAG\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n",
    )
    dag_folder.write("exits.py", "import os\nfrom updraft import DAG\nos._exit(1)\n")
    dag_folder.write("segfault.py", "import ctypes\nfrom updraft import DAG\nctypes.string_at(0)\n")
    dag_folder.write("raises.py", "from updraft import DAG\nraise KeyboardInterrupt\n")
    for i in range(3):
        dag_folder.write(f"fine_{i}.py", dag_source(f"fine_{i}"))

    stats = make_manager().run_once()

    assert stats.files == 8 and stats.errors == 5 and stats.dags == 3
    assert all(dag_folder.dag(f"fine_{i}").is_active for i in range(3))
    errors = dag_folder.import_errors()
    assert "took longer than 1s" in errors["endless.py"]
    assert "took longer than 1s" in errors["deaf.py"] and "killed it" in errors["deaf.py"]
    assert "exited with code 1" in errors["exits.py"] and "exits.py" in errors["exits.py"]
    assert "killed by signal SIGSEGV" in errors["segfault.py"]
    assert "KeyboardInterrupt" in errors["raises.py"]


def test_updraftignore_and_safe_mode_skip_files(dag_folder: DagFolder, make_manager: Factory):
    dag_folder.write(".updraftignore", "skipped/\n*_draft.py\n")
    dag_folder.write("skipped/hidden.py", dag_source("hidden"))
    dag_folder.write("wip_draft.py", dag_source("wip"))
    dag_folder.write("helpers.py", "VALUE = 1\nraise RuntimeError('never imported: no D-A-G word')\n")
    dag_folder.write("nested/deep/real.py", dag_source("real"))

    stats = make_manager().run_once()

    assert (stats.files, stats.dags, stats.errors) == (1, 1, 0)
    assert dag_folder.dag("real") is not None
    assert dag_folder.dag("hidden") is None and dag_folder.dag("wip") is None


def test_a_dag_id_defined_in_two_files_is_an_import_error(dag_folder: DagFolder, make_manager: Factory):
    first = dag_folder.write("a_first.py", dag_source("twin"))
    dag_folder.write("b_second.py", dag_source("twin", tags=["second"]))

    make_manager().run_once()

    assert dag_folder.dag("twin").fileloc == str(first)
    assert "already defined in" in dag_folder.import_errors()["b_second.py"]


def test_the_scheduler_is_woken_only_when_something_new_was_stored(
    dag_folder: DagFolder, make_manager: Factory, monkeypatch: pytest.MonkeyPatch
):
    calls: list[int] = []
    monkeypatch.setattr(manager_module, "notify_scheduler", lambda: calls.append(1) or True)
    path = dag_folder.write("wake.py", dag_source("wake"))
    dag_folder.write("other.py", dag_source("other"))
    manager = make_manager()

    manager.run_once()
    assert calls == [1]  # once per pass, not once per DAG
    manager.run_once()
    assert calls == [1]
    path.write_text(dag_source("wake", tags=["new"]))
    manager.run_once()
    assert calls == [1, 1]


def test_examples_are_parsed_when_load_examples_is_on(
    dag_folder: DagFolder, make_manager: Factory, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", "True")
    folders = processor_folders()
    assert folders == [dag_folder.path, EXAMPLE_DAGS_FOLDER]
    stats = make_manager(folders).run_once()
    assert stats.dags >= 1 and stats.errors == 0
    with dag_folder.engine.connect() as conn:
        stored = set(conn.scalars(select(SerializedDagModel.fileloc)))
    assert stored and all(f.startswith(str(EXAMPLE_DAGS_FOLDER)) for f in stored)

    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", "False")
    make_manager(processor_folders()).run_once()  # examples off: their DAGs leave the list
    example = next(iter(stored))
    with dag_folder.engine.connect() as conn:
        assert not any(conn.scalars(select(DagModel.is_active).where(DagModel.fileloc == example)))
