"""Fixtures of the DAG processor tests: a DAG folder in a migrated DB, and a manager factory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from updraft.core.dag_processing import DagProcessorManager
from updraft.core.db.engine import get_engine
from updraft.core.db.migrate import ensure_schema
from updraft.core.db.models import DagModel, ParseImportError, SerializedDagModel

DAG_TEMPLATE = """
from datetime import datetime
from updraft import DAG
from updraft.operators import BashOperator, EmptyOperator

with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule="@daily", tags={tags!r}) as dag:
    EmptyOperator(task_id="start") >> BashOperator(task_id="hello", bash_command="echo hello")
"""


def dag_source(dag_id: str, tags: list[str] | None = None) -> str:
    return DAG_TEMPLATE.format(dag_id=dag_id, tags=tags or [])


class DagFolder:
    """The DAG folder of a test, and short ways to read what the processor stored."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
        return target

    def dag(self, dag_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(DagModel).where(DagModel.dag_id == dag_id)).first()

    def versions(self, dag_id: str) -> list[Any]:
        with self.engine.connect() as conn:
            return conn.execute(
                select(SerializedDagModel.version, SerializedDagModel.file_hash, SerializedDagModel.data)
                .where(SerializedDagModel.dag_id == dag_id)
                .order_by(SerializedDagModel.version)
            ).all()

    def import_errors(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ParseImportError.filename, ParseImportError.stacktrace)).all()
        return {Path(row.filename).name: row.stacktrace for row in rows}


@pytest.fixture
def dag_folder(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DagFolder:
    folder = tmp_path / "dags"
    folder.mkdir()
    monkeypatch.setenv("UPDRAFT__CORE__DAGS_FOLDER", str(folder))
    monkeypatch.setenv("UPDRAFT__CORE__LOAD_EXAMPLES", "False")
    monkeypatch.setenv("UPDRAFT__CORE__DAGBAG_IMPORT_TIMEOUT", "1")
    monkeypatch.setenv("UPDRAFT__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL", "0")
    engine = get_engine(db_url)
    ensure_schema(engine)
    return DagFolder(folder.resolve(), engine)


@pytest.fixture
def make_manager(dag_folder: DagFolder) -> Callable[..., DagProcessorManager]:
    def make(folders: list[Path] | None = None) -> DagProcessorManager:
        manager = DagProcessorManager(folders or [dag_folder.path], engine=dag_folder.engine)
        manager.pool.grace = 0.5  # the hard-kill path of a hung file, quickly
        return manager

    return make
