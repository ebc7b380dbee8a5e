"""`make run`: run every bundled example DAG once with `updraft dags test`, then summarize.

Until the scheduler lands, this is how Updraft "runs" on its embedded default (SQLite, the
in-process runner). Exits non-zero if any example run fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from updraft.core.dagbag import EXAMPLE_DAGS_FOLDER, load_dagbag


def main() -> int:
    os.environ.setdefault("UPDRAFT__CORE__LOAD_EXAMPLES", "True")
    bag = load_dagbag([EXAMPLE_DAGS_FOLDER])
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"import error in {path}:\n{error}", file=sys.stderr)
        return 1
    updraft = str(Path(sys.executable).with_name("updraft"))
    failed = []
    for dag_id in sorted(bag.dags):
        print(f"\n=== updraft dags test {dag_id}", flush=True)
        if subprocess.call([updraft, "dags", "test", dag_id]) != 0:
            failed.append(dag_id)
    home = os.environ.get("UPDRAFT_HOME", "~/updraft")
    print(
        f"\n{len(bag.dags) - len(failed)} of {len(bag.dags)} example DAGs succeeded; "
        f"state and logs are in {home} (try `updraft dags list-runs example_tutorial`)."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
