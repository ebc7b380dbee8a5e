"""Metadata DB on SQLite and PostgreSQL: migrations, column types, constraints, cascades, engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, func, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from tests.db_backends import pg_admin_connection
from updraft.core.db import engine as db_engine
from updraft.core.db.engine import UpdraftDbError, create_session, get_engine, normalize_url
from updraft.core.db.migrate import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    current_revision,
    ensure_schema,
    migrate,
    reset,
)
from updraft.core.db.models import (
    Base,
    DagModel,
    DagRun,
    DagTag,
    TaskInstance,
    TaskInstanceHistory,
    Variable,
    XCom,
)

UTC = timezone.utc
IST = timezone(timedelta(hours=5, minutes=30))


def add_run(session: Session, run_id: str = "manual__1", **kwargs: object) -> DagRun:
    run = DagRun(dag_id="d", run_id=run_id, run_type="manual", state="running", **kwargs)
    session.add(run)
    session.flush()
    return run


def add_ti(session: Session, task_id: str = "t", run_id: str = "manual__1", map_index: int = -1) -> None:
    session.add(TaskInstance(dag_id="d", run_id=run_id, task_id=task_id, map_index=map_index))
    session.flush()


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# -- migrations ------------------------------------------------------------------------------------


def test_head_revision_is_alembic_head() -> None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_migrate_creates_all_tables(db_url: str) -> None:
    engine = get_engine(db_url)
    assert current_revision(engine) is None
    ensure_schema(engine)
    assert current_revision(engine) == HEAD_REVISION
    tables = set(inspect(engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    migrate(engine)  # running it again changes nothing
    assert current_revision(engine) == HEAD_REVISION


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_concurrent_migrations_do_not_collide(db_url: str) -> None:
    code = (
        "import sys\n"
        "from updraft.core.db.engine import get_engine\n"
        "from updraft.core.db.migrate import migrate\n"
        "migrate(get_engine(sys.argv[1]))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], errors
    engine = get_engine(db_url)
    assert current_revision(engine) == HEAD_REVISION
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


def test_fast_path_does_not_import_alembic(updraft_home: Path) -> None:
    url = f"sqlite:///{updraft_home / 'fast.db'}"
    ensure_schema(get_engine(url))
    code = (
        "import sys\n"
        "from updraft.core.db.engine import get_engine\n"
        "from updraft.core.db.migrate import ensure_schema\n"
        "ensure_schema(get_engine(sys.argv[1]))\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'alembic')\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code, url], check=True, env=os.environ.copy())


def test_reset_empties_tables(engine: Engine, session: Session) -> None:
    add_run(session)
    add_ti(session)
    session.add(Variable(key="k", val="v"))
    session.commit()
    session.close()
    reset(engine)
    assert current_revision(engine) == HEAD_REVISION
    with Session(engine) as fresh:
        assert count(fresh, DagRun) == count(fresh, TaskInstance) == count(fresh, Variable) == 0


def test_unknown_revision_is_reported(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(UpdraftDbError, match="newer updraft"):
        ensure_schema(engine)


# -- column types ----------------------------------------------------------------------------------


def test_utc_datetime_round_trip(engine: Engine, session: Session) -> None:
    moment = datetime(2024, 3, 1, 12, 0, 30, 123456, tzinfo=IST)
    add_run(session, logical_date=moment)
    session.commit()
    session.expunge_all()
    stored = session.scalars(select(DagRun.logical_date)).one()
    assert stored == moment
    assert stored.utcoffset() == timedelta(0)
    assert stored.replace(tzinfo=None) == datetime(2024, 3, 1, 6, 30, 30, 123456)
    # comparisons in SQL use the same instant, whatever offset the parameter has
    found = session.scalars(select(DagRun.run_id).where(DagRun.logical_date == moment.astimezone(UTC)))
    assert found.all() == ["manual__1"]


def test_utc_datetime_rejects_naive(session: Session) -> None:
    with pytest.raises(StatementError, match="naive datetime") as excinfo:
        add_run(session, logical_date=datetime(2024, 3, 1, 12))
    assert isinstance(excinfo.value.orig, ValueError)


def test_json_dict_round_trip(engine: Engine, session: Session) -> None:
    conf = {"a": [1, 2.5, None, "x"], "nested": {"ok": True}}
    add_run(session, conf=conf)
    session.commit()
    session.expunge_all()
    assert session.scalars(select(DagRun.conf)).one() == conf
    with engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT conf FROM dag_run").scalar_one()
    assert json.loads(raw) == conf


def test_json_dict_rejects_unserialisable(session: Session) -> None:
    with pytest.raises(StatementError, match="cannot store dict value as JSON: Object of type set"):
        add_run(session, conf={"s": {1, 2}})


# -- constraints and cascades ----------------------------------------------------------------------


def test_duplicate_task_instance_key_is_refused(session: Session) -> None:
    add_run(session)
    add_ti(session, map_index=0)
    add_ti(session, map_index=1)
    with pytest.raises(IntegrityError):
        add_ti(session, map_index=1)


def test_duplicate_run_id_and_logical_date_are_refused(session: Session) -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    add_run(session, logical_date=when)
    session.commit()
    with pytest.raises(IntegrityError):
        add_run(session, run_id="manual__1")
    session.rollback()
    with pytest.raises(IntegrityError):
        add_run(session, run_id="other", logical_date=when)
    session.rollback()
    add_run(session, run_id="no_date_1")  # NULL logical dates do not collide
    add_run(session, run_id="no_date_2")


def test_task_instance_needs_its_dag_run(session: Session) -> None:
    with pytest.raises(IntegrityError):
        add_ti(session, run_id="missing")


def _populate_run(session: Session) -> None:
    add_run(session)
    add_run(session, run_id="other")
    add_ti(session, "a")
    add_ti(session, "b")
    add_ti(session, "a", run_id="other")
    session.add(XCom(dag_id="d", run_id="manual__1", task_id="a", key="return_value", value="1"))
    session.add(TaskInstanceHistory(dag_id="d", run_id="manual__1", task_id="a", try_number=1))
    session.commit()


@pytest.mark.parametrize("how", ["sql", "orm"])
def test_deleting_a_dag_run_cascades(session: Session, how: str) -> None:
    _populate_run(session)
    if how == "sql":
        session.execute(delete(DagRun).where(DagRun.run_id == "manual__1"))
    else:
        session.delete(session.scalars(select(DagRun).where(DagRun.run_id == "manual__1")).one())
    session.commit()
    assert session.scalars(select(TaskInstance.run_id)).all() == ["other"]
    assert count(session, XCom) == count(session, TaskInstanceHistory) == 0


def test_deleting_a_dag_cascades_to_tags(session: Session) -> None:
    session.add(DagModel(dag_id="d", tags=[DagTag(name="x"), DagTag(name="y")]))
    session.commit()
    assert count(session, DagTag) == 2
    session.execute(delete(DagModel))
    session.commit()
    assert count(session, DagTag) == 0


# -- engines and sessions --------------------------------------------------------------------------


def test_sqlite_pragmas(updraft_home: Path) -> None:
    with get_engine().connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_engine_is_cached_and_defaults_to_config(db_url: str) -> None:
    assert get_engine() is get_engine(db_url)


def test_sqlite_parent_dir_is_created(updraft_home: Path) -> None:
    path = updraft_home / "a" / "b" / "x.db"
    with get_engine(f"sqlite:///{path}").connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert path.exists()


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u:p@h:5432/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


def test_bad_urls_have_clear_errors(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UpdraftDbError, match="not a valid database URL") as excinfo:
        get_engine("not a url://u:secret@x")
    assert "secret" not in str(excinfo.value)
    with pytest.raises(UpdraftDbError, match="updraft supports sqlite:// and postgresql://"):
        get_engine("nosuchdb://h/db")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(UpdraftDbError, match=r"pip install 'updraft\[postgres\]'"):
        get_engine("postgresql://u@127.0.0.1/absent")


def test_create_session_commits_or_rolls_back(engine: Engine) -> None:
    with create_session() as session:
        session.add(Variable(key="kept", val="1"))
    with pytest.raises(RuntimeError), create_session(engine) as session:
        session.add(Variable(key="dropped", val="2"))
        session.flush()
        raise RuntimeError("boom")
    with create_session(engine) as session:
        assert session.scalars(select(Variable.key)).all() == ["kept"]


def test_dispose_engines_forgets_engines(updraft_home: Path) -> None:
    first = get_engine()
    db_engine.dispose_engines()
    assert get_engine() is not first


def test_unreachable_postgres_skips_locally_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = "postgresql://postgres@127.0.0.1:1/test"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"PostgreSQL at 127\.0\.0\.1:1 is not reachable"):
        pg_admin_connection(bogus)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not reachable"):
        pg_admin_connection(bogus)
