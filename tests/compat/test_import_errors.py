"""Bad DAG files fail at import with a message naming the Airflow feature and what to do instead;
``updraft dags list-import-errors`` lists each once; ``core.airflow_compat = False`` turns the layer off;
a good file also runs in plain Python after ``import updraft.compat``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compat.conftest import BAD, DAGS2, DAGS3
from updraft import compat as compat_layer
from updraft.core.config import conf
from updraft.core.dagbag import load_dagbag

UPDRAFT = str(Path(sys.executable).with_name("updraft"))

#: Per bad file: words its error must contain (the feature, then the advice).
EXPECTED = {
    "bad_amazon_provider.py": ["airflow.providers.amazon", "amazon", "not part of Updraft", "PythonOperator"],
    "bad_subdag.py": ["SubDagOperator", "TaskGroup"],
    "bad_no_such_name.py": ["airflow.operators.bash.NoSuchName", "docs/airflow-compat.md"],
    "bad_virtualenv.py": ["PythonVirtualenvOperator", "not supported", "ExternalPythonOperator"],
    "bad_task_state_store.py": ["resume_job", "task_state_store", "not supported", "Variable"],
}
GOOD = [DAGS2 / "a2_templates.py", DAGS2 / "a2_toolbox.py", DAGS3 / "a3_taskflow.py"]


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in [*sorted(BAD.glob("*.py")), *GOOD]:
        shutil.copy(path, folder / path.name)
    return folder


def test_each_bad_file_names_the_feature_and_gives_advice():
    bag = load_dagbag([BAD])
    assert bag.dags == {}
    errors = {Path(path).name: text for path, text in bag.import_errors.items()}
    assert set(errors) == set(EXPECTED)
    for name, words in EXPECTED.items():
        text = errors[name]
        for word in words:
            assert word in text, f"{name}: {word!r} missing from the import error:\n{text}"
        assert "AttributeError" not in text and "ModuleNotFoundError" not in text, text


@pytest.mark.parametrize(
    ("statement", "feature"),
    [
        ("from airflow.providers.amazon.aws.hooks.s3 import S3Hook", "amazon"),
        ("from airflow.operators.subdag import SubDagOperator", "SubDagOperator"),
        ("from airflow.operators.bash import NoSuchName", "NoSuchName"),
        ("import airflow.providers.cncf.kubernetes.operators.pod", "Kubernetes"),
    ],
)
def test_unsupported_imports_raise_an_import_error_subclass(statement: str, feature: str):
    with pytest.raises(compat_layer.UnsupportedAirflowFeature, match=feature) as caught:
        exec(statement, {})
    assert isinstance(caught.value, ImportError)


def test_list_import_errors_cli_on_a_mixed_folder(db_url: str, mixed_folder: Path):
    env = {
        **os.environ,
        "UPDRAFT__CORE__DAGS_FOLDER": str(mixed_folder),
        "UPDRAFT__CORE__LOAD_EXAMPLES": "False",
    }
    as_json = subprocess.run(
        [UPDRAFT, "dags", "list-import-errors", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert as_json.returncode == 1, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert sorted(Path(row["filepath"]).name for row in rows) == sorted(EXPECTED)
    for row in rows:
        for word in EXPECTED[Path(row["filepath"]).name]:
            assert word in row["error"], row

    table = subprocess.run(
        [UPDRAFT, "dags", "list-import-errors"], capture_output=True, text=True, env=env, timeout=120
    )
    assert table.returncode == 1
    for name in EXPECTED:
        assert sum(name in line for line in table.stdout.splitlines()) == 1, table.stdout
    for path in GOOD:
        assert path.name not in table.stdout

    listed = subprocess.run(
        [UPDRAFT, "dags", "list", "-o", "json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert {row["dag_id"] for row in json.loads(listed.stdout)} == {
        "a2_templates",
        "a2_toolbox",
        "a3_taskflow",
    }


PLAIN = {
    DAGS2 / "a2_templates.py": ["a2_templates"],
    DAGS3 / "a3_schedules.py": [
        "a3_cron",
        "a3_delta",
        "a3_no_schedule_argument",
        "a3_none",
        "a3_preset",
        "a3_sensors",
    ],
}


@pytest.mark.parametrize("path", list(PLAIN), ids=lambda p: p.name)
def test_plain_python_runs_a_good_file_after_import_updraft_compat(path: Path, updraft_home: Path):
    code = (
        "import updraft.compat, runpy, airflow\n"
        f"ns = runpy.run_path({str(path)!r})\n"
        "from updraft.compat.finder import is_compat_module\n"
        "dags = sorted(v.dag_id for v in ns.values() if type(v).__name__ == 'DAG')\n"
        "print(is_compat_module(airflow), dags)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"True {PLAIN[path]}"


@pytest.fixture
def compat_off(updraft_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("UPDRAFT__CORE__AIRFLOW_COMPAT", "False")
    conf.reload()
    yield
    monkeypatch.delenv("UPDRAFT__CORE__AIRFLOW_COMPAT")
    conf.reload()
    compat_layer.install()


def test_airflow_compat_false_makes_import_airflow_an_import_error(compat_off: None, mixed_folder: Path):
    bag = load_dagbag([mixed_folder])
    assert bag.dags == {}
    assert len(bag.import_errors) == len(EXPECTED) + len(GOOD)
    for path, text in bag.import_errors.items():
        assert "ModuleNotFoundError" in text and "airflow" in text, (path, text)
        assert "UnsupportedAirflowFeature" not in text


def test_airflow_compat_false_from_the_environment_in_a_new_process(db_url: str, mixed_folder: Path):
    env = {
        **os.environ,
        "UPDRAFT__CORE__DAGS_FOLDER": str(mixed_folder),
        "UPDRAFT__CORE__AIRFLOW_COMPAT": "False",
    }
    done = subprocess.run(
        [UPDRAFT, "dags", "list-import-errors", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    rows = json.loads(done.stdout)
    assert len(rows) == len(EXPECTED) + len(GOOD)
    assert all("ModuleNotFoundError" in row["error"] for row in rows), rows
