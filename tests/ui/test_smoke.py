"""A first check of the fixture: the DAG list page and data, as the admin."""

from __future__ import annotations

from tests.ui.conftest import Ui


def test_dag_list_lists_the_stored_dags(ui: Ui) -> None:
    client = ui.login("admin")
    data = client.get("/ui/dags").json()
    assert [d["dag_id"] for d in data["dags"]] == ["ui_demo", "ui_failing"]
