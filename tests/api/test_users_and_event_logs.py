"""``/users``, ``/roles`` and ``/eventLogs`` through the real app, with real tokens."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

NEW_USER: dict[str, Any] = {
    "username": "alice",
    "first_name": "Alice",
    "last_name": "Liddell",
    "email": "alice@example.com",
    "roles": [{"name": "Viewer"}],
    "password": "s3cret-pass",
}


def test_user_crud_never_returns_passwords(api: Api) -> None:
    admin = api.bearer("admin")
    created = api.client.post("/api/v2/users", json=NEW_USER, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["roles"] == [{"name": "Viewer"}] and created.json()["active"] is True
    assert "s3cret-pass" not in created.text and "password" not in created.json()
    assert api.token("alice", "s3cret-pass")

    listed = api.client.get("/api/v2/users", headers=admin).json()
    assert listed["total_entries"] == 5 and "password" not in str(listed)
    assert [u["username"] for u in listed["users"]] == ["admin", "alice", "op", "user", "viewer"]
    newest = api.client.get(
        "/api/v2/users", params={"order_by": "-username", "limit": 2}, headers=admin
    ).json()
    assert [u["username"] for u in newest["users"]] == ["viewer", "user"] and newest["total_entries"] == 5

    patched = api.client.patch(
        "/api/v2/users/alice",
        json={"roles": ["op", "User"], "last_name": "Pleasance", "password": "n3w-pass"},
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["roles"] == [{"name": "Op"}, {"name": "User"}]
    assert patched.json()["last_name"] == "Pleasance" and "n3w-pass" not in patched.text
    assert api.token("alice", "n3w-pass")
    masked = api.client.patch(
        "/api/v2/users/alice",
        params={"update_mask": "first_name"},
        json={"first_name": "Al", "email": "x@y.z"},
        headers=admin,
    )
    assert masked.json()["first_name"] == "Al" and masked.json()["email"] == "alice@example.com"

    assert api.client.delete("/api/v2/users/alice", headers=admin).status_code == 204
    assert api.client.get("/api/v2/users/alice", headers=admin).status_code == 404
    assert api.client.delete("/api/v2/users/alice", headers=admin).status_code == 404


def test_user_errors_name_the_field(api: Api) -> None:
    admin = api.bearer("admin")
    duplicate = api.client.post("/api/v2/users", json={**NEW_USER, "username": "op"}, headers=admin)
    assert duplicate.status_code == 409 and "op" in duplicate.json()["detail"]
    taken_email = api.client.post(
        "/api/v2/users", json={**NEW_USER, "email": "op@example.com"}, headers=admin
    )
    assert taken_email.status_code == 409 and "op@example.com" in taken_email.json()["detail"]
    bad_role = api.client.post("/api/v2/users", json={**NEW_USER, "roles": ["Superuser"]}, headers=admin)
    assert bad_role.status_code == 400 and "Superuser" in bad_role.json()["detail"]
    bad_email = api.client.post("/api/v2/users", json={**NEW_USER, "email": "nope"}, headers=admin)
    assert bad_email.status_code == 400 and "email" in bad_email.json()["detail"]
    no_role = api.client.patch("/api/v2/users/op", json={"roles": []}, headers=admin)
    assert no_role.status_code == 400 and "roles" in no_role.json()["detail"]
    unknown_field = api.client.patch("/api/v2/users/op", params={"update_mask": "id"}, json={}, headers=admin)
    assert unknown_field.status_code == 400 and "id" in unknown_field.json()["detail"]
    steal_email = api.client.patch("/api/v2/users/op", json={"email": "user@example.com"}, headers=admin)
    assert steal_email.status_code == 409
    assert api.client.patch("/api/v2/users/ghost", json={"first_name": "G"}, headers=admin).status_code == 404
    assert api.client.delete("/api/v2/users/admin", headers=admin).status_code == 400
    assert api.client.patch("/api/v2/users/admin", json={"active": False}, headers=admin).status_code == 400
    assert (
        api.client.post("/api/v2/users", json={**NEW_USER, "is_admin": True}, headers=admin).status_code
        == 422
    )


def test_only_admins_manage_users(api: Api) -> None:
    op = api.bearer("op")
    assert api.client.get("/api/v2/users", headers=op).status_code == 403
    assert api.client.post("/api/v2/users", json=NEW_USER, headers=op).status_code == 403
    assert api.client.get("/api/v2/roles", headers=op).status_code == 403


def test_roles_list_their_permissions(api: Api) -> None:
    roles = api.client.get("/api/v2/roles", headers=api.bearer("admin")).json()
    by_name = {r["name"]: set(r["permissions"]) for r in roles["roles"]}
    assert roles["total_entries"] == 4 and set(by_name) == {"Admin", "Op", "User", "Viewer"}
    assert "users.edit" in by_name["Admin"] and "users.edit" not in by_name["Op"]
    assert "audit_log.read" in by_name["Op"] and "audit_log.read" not in by_name["User"]


def test_event_logs_record_user_writes(api: Api) -> None:
    admin = api.bearer("admin")
    api.client.post("/api/v2/users", json=NEW_USER, headers=admin)
    api.client.patch("/api/v2/users/alice", json={"password": "other-pass"}, headers=admin)
    api.client.delete("/api/v2/users/alice", headers=admin)

    op = api.bearer("op")
    logs = api.client.get("/api/v2/eventLogs", params={"owner": "admin"}, headers=op).json()
    assert [e["event"] for e in logs["event_logs"]] == ["post_user", "patch_user", "delete_user"]
    assert logs["total_entries"] == 3 and "other-pass" not in str(logs) and "s3cret" not in str(logs)
    first = logs["event_logs"][0]
    assert set(first) == {"event_log_id", "when", "dag_id", "task_id", "run_id", "map_index", "try_number",
                          "event", "logical_date", "owner", "extra", "client_ip"}  # fmt: skip
    assert "alice" in first["extra"]
    assert first["client_ip"] == "testclient"  # where the action came from (the test client's address)

    one = api.client.get(f"/api/v2/eventLogs/{first['event_log_id']}", headers=op)
    assert one.status_code == 200 and one.json() == first
    assert api.client.get("/api/v2/eventLogs/999999", headers=op).status_code == 404

    def events(**params: Any) -> list[str]:
        answer = api.client.get("/api/v2/eventLogs", params=params, headers=op)
        assert answer.status_code == 200, answer.text
        return [e["event"] for e in answer.json()["event_logs"]]

    assert events(event="patch_user") == ["patch_user"]
    assert events(order_by="-event_log_id", limit=1) == ["delete_user"]
    assert events(offset=2) == ["delete_user"]
    assert events(excluded_events=["patch_user"]) == ["post_user", "delete_user"]
    assert events(after=first["when"], before=first["when"]) == ["post_user"]
    assert events(after="2999-01-01T00:00:00") == []
    assert events(dag_id="nope") == []
    assert events(event_pattern="PATCH") == ["patch_user"]  # case-insensitive substring
    assert events(owner_pattern="dmi", event_pattern="_user") == ["post_user", "patch_user", "delete_user"]
    assert events(dag_id_pattern="x") == events(task_id_pattern="x") == events(run_id_pattern="x") == []
    bad = api.client.get("/api/v2/eventLogs", params={"order_by": "password"}, headers=op)
    assert bad.status_code == 400 and "password" in bad.json()["detail"]
    assert api.client.get("/api/v2/eventLogs", headers=api.bearer("user")).status_code == 403
    assert api.client.get("/api/v2/eventLogs").status_code == 401
