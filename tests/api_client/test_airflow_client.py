"""The official ``apache-airflow-client`` (3.x) against a running Updraft API server.

The client validates every answer with its pydantic models, so a path, parameter or JSON shape that
differs from Airflow 3's public REST API makes a call raise here.
"""

from __future__ import annotations

import json

import pytest
from airflow_client.client import (
    ApiClient,
    ClearTaskInstancesBody,
    ClearTaskInstancesBodyTaskIdsInner,
    ConnectionApi,
    ConnectionBody,
    DAGApi,
    DAGPatchBody,
    DagRunApi,
    DAGRunClearBody,
    DAGRunPatchBody,
    DagSourceApi,
    EventLogApi,
    ImportErrorApi,
    MonitorApi,
    PatchTaskInstanceBody,
    PoolApi,
    PoolBody,
    PoolPatchBody,
    TaskInstanceApi,
    TaskInstanceResponse,
    TriggerDAGRunPostBody,
    VariableApi,
    VariableBody,
    VersionApi,
    XComApi,
)
from airflow_client.client.exceptions import NotFoundException

import updraft
from tests.api_client.conftest import RUN_ID, Server

# One backend is enough here: the route tests in tests/api_routes run SQLite and PostgreSQL.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_version_and_health(client: ApiClient) -> None:
    # The client sends no token for /api/v2/version: Airflow 3 serves it without login, and so do we.
    assert VersionApi(client).get_version().version == updraft.__version__
    health = MonitorApi(client).get_health()
    assert health.metadatabase.status == "healthy"


def test_dags(client: ApiClient) -> None:
    dags = DAGApi(client)
    everything = dags.get_dags()
    assert {d.dag_id for d in everything.dags} == {"client_simple", "client_failing"}
    assert everything.total_entries == 2
    assert [d.dag_id for d in dags.get_dags(tags=["alpha"]).dags] == ["client_simple"]
    assert [d.dag_id for d in dags.get_dags(dag_id_pattern="fail").dags] == ["client_failing"]
    assert dags.get_dags(limit=1, order_by=["-dag_id"]).dags[0].dag_id == "client_simple"

    dag = dags.get_dag("client_simple")
    assert dag.description == "a simple dag"
    assert sorted(t.name for t in dag.tags) == ["alpha", "beta"]

    for dag_id in ("client_simple", "client_failing"):
        dags.patch_dag(dag_id, DAGPatchBody(is_paused=True), update_mask=["is_paused"])
    unpaused = dags.patch_dag("client_simple", DAGPatchBody(is_paused=False), update_mask=["is_paused"])
    assert unpaused.is_paused is False
    assert [d.dag_id for d in dags.get_dags(paused=True).dags] == ["client_failing"]
    assert [d.dag_id for d in dags.get_dags(paused=False).dags] == ["client_simple"]

    details = dags.get_dag_details("client_simple")
    assert details.doc_md == "# Simple"
    assert details.params is not None and "n" in details.params

    with pytest.raises(NotFoundException):
        dags.get_dag("missing")


def test_dag_source(client: ApiClient) -> None:
    source = DagSourceApi(client).get_dag_source("client_simple")
    assert "client_simple" in (source.content or "")


def test_import_errors(client: ApiClient) -> None:
    api = ImportErrorApi(client)
    errors = api.get_import_errors()
    assert errors.total_entries == 1
    error = errors.import_errors[0]
    assert error.filename.endswith("broken.py")
    assert api.get_import_error(error.import_error_id).stack_trace == error.stack_trace


def test_dag_runs(ran: Server, client: ApiClient) -> None:
    runs = DagRunApi(client)
    listed = runs.get_dag_runs("client_simple")
    assert [r.dag_run_id for r in listed.dag_runs] == [RUN_ID]
    assert listed.total_entries == 1
    run = runs.get_dag_run("client_simple", RUN_ID)
    assert run.state.value == "success"
    assert run.conf == {"n": 7}
    assert runs.get_dag_runs("~").total_entries == 2

    triggered = runs.trigger_dag_run(
        "client_simple", TriggerDAGRunPostBody(dag_run_id="from_client", logical_date=None, conf={"n": 3})
    )
    assert triggered.dag_run_id == "from_client"
    assert triggered.conf == {"n": 3}
    assert triggered.state.value == "queued"

    failed = runs.patch_dag_run("client_simple", "from_client", DAGRunPatchBody(state="failed"))
    assert failed.state.value == "failed"

    runs.delete_dag_run("client_simple", "from_client")
    with pytest.raises(NotFoundException):
        runs.get_dag_run("client_simple", "from_client")


def test_task_instances(ran: Server, client: ApiClient) -> None:
    tis = TaskInstanceApi(client)
    listed = tis.get_task_instances("client_simple", RUN_ID)
    assert {t.task_id for t in listed.task_instances} == {"first", "second"}
    assert listed.total_entries == 2
    first = tis.get_task_instance("client_simple", RUN_ID, "first")
    assert first.state is not None and first.state.value == "success"
    assert first.try_number == 1

    tries = tis.get_task_instance_tries("client_simple", RUN_ID, "first")
    assert [t.try_number for t in tries.task_instances] == [1]

    log = tis.get_log("client_simple", RUN_ID, "first", 1, full_content=True, accept="application/json")
    assert "hello-from-7" in str(log.content)

    patched = tis.patch_task_instance(
        "client_failing", RUN_ID, "boom", PatchTaskInstanceBody(new_state="success")
    )
    assert [t.state.value for t in patched.task_instances if t.state] == ["success"]

    cleared = tis.post_clear_task_instances(
        "client_simple",
        ClearTaskInstancesBody(
            dry_run=False,
            only_failed=False,
            task_ids=[ClearTaskInstancesBodyTaskIdsInner("second")],
            dag_run_id=RUN_ID,
        ),
    )
    assert [t.task_id for t in cleared.task_instances] == ["second"]
    assert tis.get_task_instance("client_simple", RUN_ID, "second").state is None


def test_xcom(ran: Server, client: ApiClient) -> None:
    xcom = XComApi(client)
    entries = xcom.get_xcom_entries("client_simple", RUN_ID, "second")
    assert [e.key for e in entries.xcom_entries] == ["return_value"]
    entry = xcom.get_xcom_entry("client_simple", "second", RUN_ID, "return_value")
    assert entry.actual_instance is not None
    assert entry.actual_instance.value == {"answer": 42}


def test_pools(client: ApiClient) -> None:
    pools = PoolApi(client)
    created = pools.post_pool(PoolBody(name="client_pool", slots=3, description="from client"))
    assert created.slots == 3
    assert pools.get_pool("client_pool").description == "from client"
    assert "client_pool" in {p.name for p in pools.get_pools().pools}
    patched = pools.patch_pool("client_pool", PoolPatchBody(slots=5), update_mask=["slots"])
    assert patched.slots == 5
    pools.delete_pool("client_pool")
    with pytest.raises(NotFoundException):
        pools.get_pool("client_pool")


def test_variables(client: ApiClient) -> None:
    variables = VariableApi(client)
    created = variables.post_variable(VariableBody(key="client_var", value="one", description="d"))
    assert created.value == "one"
    assert variables.get_variable("client_var").description == "d"
    assert [v.key for v in variables.get_variables().variables] == ["client_var"]
    patched = variables.patch_variable("client_var", VariableBody(key="client_var", value="two"))
    assert patched.value == "two"
    variables.delete_variable("client_var")
    with pytest.raises(NotFoundException):
        variables.get_variable("client_var")


def test_connections(client: ApiClient) -> None:
    connections = ConnectionApi(client)
    body = ConnectionBody(
        connection_id="client_conn", conn_type="postgres", host="db", login="me", password="s3cret", port=5432
    )
    created = connections.post_connection(body)
    assert created.host == "db"
    assert created.password != "s3cret"
    fetched = connections.get_connection("client_conn")
    assert fetched.port == 5432
    assert fetched.password != "s3cret"
    listed = connections.get_connections()
    assert [c.connection_id for c in listed.connections] == ["client_conn"]
    assert all(c.password != "s3cret" for c in listed.connections)
    patched = connections.patch_connection(
        "client_conn",
        ConnectionBody(connection_id="client_conn", conn_type="postgres", host="db2"),
        update_mask=["host"],
    )
    assert patched.host == "db2"
    connections.delete_connection("client_conn")
    with pytest.raises(NotFoundException):
        connections.get_connection("client_conn")


def test_clear_dag_run(ran: Server, client: ApiClient) -> None:
    runs, tis = DagRunApi(client), TaskInstanceApi(client)
    # A dry run answers with full task instances, as Airflow 3 does; the client cannot pick between
    # its two oneOf item models for those (both match), so read the answer and check the items.
    preview = runs.clear_dag_run_without_preload_content(
        "client_failing", RUN_ID, DAGRunClearBody(dry_run=True, only_failed=True)
    )
    assert preview.status == 200
    items = [TaskInstanceResponse.from_dict(item) for item in json.loads(preview.data)["task_instances"]]
    assert [(t.task_id, t.state.value) for t in items] == [("boom", "failed")]
    assert tis.get_task_instance("client_failing", RUN_ID, "boom").state.value == "failed"  # dry run
    cleared = runs.clear_dag_run("client_failing", RUN_ID, DAGRunClearBody(dry_run=False, note="retry"))
    assert cleared.actual_instance.dag_run_id == RUN_ID
    assert cleared.actual_instance.state.value == "queued"
    assert cleared.actual_instance.note == "retry"
    assert tis.get_task_instance("client_failing", RUN_ID, "boom").state is None


def test_task_instance_by_map_index(ran: Server, client: ApiClient) -> None:
    # An unmapped task answers at map index -1 too, as in Airflow.
    tis = TaskInstanceApi(client)
    first = tis.get_mapped_task_instance("client_simple", RUN_ID, "first", -1)
    assert (first.task_id, first.map_index, first.state.value) == ("first", -1, "success")
    tries = tis.get_mapped_task_instance_tries("client_simple", RUN_ID, "first", -1)
    assert [(t.try_number, t.state.value) for t in tries.task_instances] == [(1, "success")]
    patched = tis.patch_task_instance_by_map_index(
        "client_failing", RUN_ID, "boom", -1, PatchTaskInstanceBody(new_state="success")
    )
    assert [(t.task_id, t.state.value) for t in patched.task_instances] == [("boom", "success")]
    with pytest.raises(NotFoundException):
        tis.get_mapped_task_instance("client_simple", RUN_ID, "first", 3)


def test_event_logs(client: ApiClient) -> None:
    PoolApi(client).post_pool(PoolBody(name="audited", slots=1))
    DAGApi(client).patch_dag("client_failing", DAGPatchBody(is_paused=True))
    logs = EventLogApi(client)
    everything = logs.get_event_logs()
    assert everything.total_entries == len(everything.event_logs) >= 2
    paused = logs.get_event_logs(dag_id="client_failing")
    assert [e.dag_id for e in paused.event_logs] == ["client_failing"]
    assert paused.event_logs[0].owner == "admin"
    one = logs.get_event_log(paused.event_logs[0].event_log_id)
    assert one.event == paused.event_logs[0].event
    assert logs.get_event_logs(dag_id_pattern="FAIL").total_entries == 1
    newest_first = logs.get_event_logs(order_by=["-event_log_id"], limit=1).event_logs
    assert newest_first[0].event_log_id == max(e.event_log_id for e in everything.event_logs)
    with pytest.raises(NotFoundException):
        logs.get_event_log(10**9)


def test_delete_dag(ran: Server, client: ApiClient) -> None:
    dags = DAGApi(client)
    dags.delete_dag("client_failing")
    with pytest.raises(NotFoundException):
        dags.get_dag("client_failing")
    with pytest.raises(NotFoundException):
        DagRunApi(client).get_dag_run("client_failing", RUN_ID)
    assert [d.dag_id for d in dags.get_dags().dags] == ["client_simple"]
