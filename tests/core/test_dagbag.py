"""Loading DAG folders: each broken file becomes one clear import error, the others still load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from updraft.core.dagbag import list_dag_files, load_dagbag

GOOD = """
from updraft import DAG
from updraft.operators import EmptyOperator
with DAG("{dag_id}", schedule=None):
    EmptyOperator(task_id="t")
"""

BROKEN = {
    "syntax.py": ("from updraft import DAG\nwith DAG('x' schedule=None):\n    pass\n", "SyntaxError"),
    "raises.py": (
        "from updraft import DAG\nraise RuntimeError('boom in dag file')\n",
        "RuntimeError: boom in dag file",
    ),
    "cycle.py": (
        """
        from updraft import DAG
        from updraft.operators import EmptyOperator
        with DAG("cyclic", schedule=None):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> b >> a
        """,
        "DAG 'cyclic' has a dependency cycle: a >> b >> a",
    ),
    "dupe.py": (
        """
        from updraft import DAG
        from updraft.operators import EmptyOperator
        with DAG("dupe", schedule=None):
            EmptyOperator(task_id="same")
            EmptyOperator(task_id="same")
        """,
        "DAG 'dupe': task_id 'same' is used twice",
    ),
    "orphan.py": (
        """
        from updraft import DAG
        from updraft.operators import EmptyOperator
        with DAG("has_orphan", schedule=None):
            EmptyOperator(task_id="inside")
        EmptyOperator(task_id="outside")
        """,
        "task 'outside' (created at ",
    ),
    "badcron.py": ("from updraft import DAG\nDAG('badcron', schedule='* * * *')\n", "DAG 'badcron'"),
    "badrule.py": (
        """
        from updraft import DAG
        from updraft.operators import EmptyOperator
        with DAG("badrule", schedule=None):
            EmptyOperator(task_id="t", trigger_rule="whenever")
        """,
        "task 't' in DAG 'badrule': unknown trigger rule 'whenever'",
    ),
    "negative.py": (
        """
        from updraft import DAG
        from updraft.operators import EmptyOperator
        with DAG("negative", schedule=None):
            EmptyOperator(task_id="t", retries=-2)
        """,
        "task 't' in DAG 'negative': retries must not be negative, got -2",
    ),
    "unexpanded.py": (
        """
        from updraft import DAG
        from updraft.operators import BashOperator
        with DAG("unexpanded", schedule=None):
            BashOperator.partial(task_id="half")
        """,
        "partial() was called but never expanded",
    ),
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_each_broken_file_is_one_import_error_and_good_files_still_load(tmp_path: Path):
    write(tmp_path, "good_one.py", GOOD.format(dag_id="good_one"))
    write(tmp_path, "nested/good_two.py", GOOD.format(dag_id="good_two"))
    for name, (text, _) in BROKEN.items():
        write(tmp_path, name, text)
    bag = load_dagbag([tmp_path])
    assert set(bag.dags) == {"good_one", "good_two"}
    assert set(bag.import_errors) == {str(tmp_path / name) for name in BROKEN}
    for name, (_, expected) in BROKEN.items():
        message = bag.import_errors[str(tmp_path / name)]
        assert message.startswith(str(tmp_path / name)), message
        assert expected in message, f"{name}: {message}"


def test_traceback_starts_in_the_users_file(tmp_path: Path):
    write(tmp_path, "helper_fail.py", "from updraft import DAG\n\ndef f():\n    return 1 / 0\n\nf()\n")
    message = load_dagbag([tmp_path]).import_errors[str(tmp_path / "helper_fail.py")]
    assert 'helper_fail.py", line 6' in message and "ZeroDivisionError" in message
    assert "importlib" not in message


def test_same_dag_id_in_two_files_is_an_error_for_the_second(tmp_path: Path):
    write(tmp_path, "a.py", GOOD.format(dag_id="twice"))
    write(tmp_path, "b.py", GOOD.format(dag_id="twice"))
    bag = load_dagbag([tmp_path])
    assert bag.dags["twice"].fileloc == str(tmp_path / "a.py")
    assert "already defined in" in bag.import_errors[str(tmp_path / "b.py")]


def test_safe_mode_and_ignore_file_skip_files(tmp_path: Path):
    write(tmp_path, "util.py", "raise RuntimeError('never imported: no mention of the magic word')\n")
    write(tmp_path, "skipme/x.py", "raise RuntimeError('dag, but ignored')\n")
    write(tmp_path, ".updraftignore", "# comment\nskipme/\n")
    write(tmp_path, "real.py", GOOD.format(dag_id="real"))
    assert [p.name for p in list_dag_files(tmp_path)] == ["real.py"]
    bag = load_dagbag([tmp_path])
    assert set(bag.dags) == {"real"} and not bag.import_errors


def test_a_dag_factory_in_a_helper_module_loads_and_fileloc_is_the_dag_file(tmp_path: Path):
    write(
        tmp_path,
        "factory_lib.py",
        textwrap.dedent("""
        from updraft import DAG
        from updraft.operators import EmptyOperator
        def make(dag_id):
            with DAG(dag_id, schedule=None) as d:
                EmptyOperator(task_id="t")
            return d
    """),
    )
    write(
        tmp_path,
        "generated.py",
        "# DAGs from a factory\nfrom factory_lib import make\nfor i in range(3):\n    globals()[f'd{i}'] = make(f'gen_{i}')\n",
    )
    bag = load_dagbag([tmp_path])
    assert {"gen_0", "gen_1", "gen_2"} <= set(bag.dags)
    assert bag.dags["gen_1"].fileloc == str(tmp_path / "generated.py")


def test_import_timeout_is_an_import_error(tmp_path: Path):
    write(tmp_path, "slow.py", "import time\nfrom updraft import DAG\ntime.sleep(5)\n")
    write(tmp_path, "ok.py", GOOD.format(dag_id="ok"))
    bag = load_dagbag([tmp_path], timeout=0.3)
    assert "core.dagbag_import_timeout" in bag.import_errors[str(tmp_path / "slow.py")]
    assert "ok" in bag.dags


@pytest.mark.parametrize("with_context", [True, False])
def test_only_dags_in_a_with_block_are_found_without_a_global_name(tmp_path: Path, with_context: bool):
    body = "from updraft import DAG\nfrom updraft.operators import EmptyOperator\n" + (
        "with DAG('anon', schedule=None):\n    EmptyOperator(task_id='t')\n"
        if with_context
        else "def build():\n    d = DAG('anon', schedule=None)\n    EmptyOperator(task_id='t', dag=d)\nbuild()\n"
    )
    write(tmp_path, "anon.py", body)
    assert ("anon" in load_dagbag([tmp_path]).dags) is with_context
