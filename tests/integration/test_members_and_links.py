"""Issue 19, parts 2 and 3 over the local stack: the workspace members for assignee pickers, and linking a ticket
to a ClickUp task that already exists (and unlinking it)."""

from __future__ import annotations

import uuid

from tests import flows
from tests.conftest import wait_for


def _space(workspace: dict) -> dict:
    return next(s for s in workspace["spaces"] if s["name"] == "Support")


def _inbox(workspace: dict) -> dict:
    return _space(workspace)["lists"][0]


def _ready(api, auth, workspace) -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    body = {"space_id": _space(workspace)["id"], "list_id": _inbox(workspace)["id"]}
    assert api.put("/api/v1/customers/cust-1/clickup-space", headers=auth(), json=body).status_code == 200


# -- part 2: members ---------------------------------------------------------------------------------------------
def test_members_list_the_default_workspace_as_clickup_names_them_and_follow_the_sync(
    api, auth, clickup, workspace
) -> None:
    _ready(api, auth, workspace)
    answer = api.get("/api/v1/clickup/members", headers=auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["workspace_id"] == workspace["team_id"] and body["synced_at"]
    teams = clickup.get("/api/v2/team", headers={"Authorization": workspace["token"]}).json()["teams"]
    team = next(t for t in teams if t["id"] == workspace["team_id"])
    roles = {1: "owner", 2: "admin", 3: "member", 4: "guest"}
    expected = sorted(
        (
            {
                "id": m["user"]["id"],
                "username": m["user"]["username"],
                "email": m["user"]["email"],
                "initials": m["user"]["initials"],
                "role": roles[m["user"]["role"]],
            }
            for m in team["members"]
        ),
        key=lambda m: m["id"],
    )
    assert body["members"] == expected
    me = next(m for m in body["members"] if m["id"] == workspace["user"]["id"])
    assert me["username"] == workspace["user"]["username"] and me["initials"]
    # Explicitly the same workspace; someone joins at ClickUp and the next sync shows them
    assert api.get(f"/api/v1/clickup/members?workspace_id={workspace['team_id']}", headers=auth()).json() == body
    tag = uuid.uuid4().hex[:6]
    colleague = clickup.post("/_emulator/users", json={"username": "Robin Hood", "email": f"r{tag}@x.io"}).json()
    clickup.post(f"/_emulator/teams/{workspace['team_id']}/members", json={"user_id": colleague["id"]})
    assert colleague["id"] not in [
        m["id"] for m in api.get("/api/v1/clickup/members", headers=auth()).json()["members"]
    ]
    synced_before = api.get("/api/v1/clickup/connection", headers=auth()).json()["last_sync_at"]
    assert api.post("/api/v1/clickup/sync", headers=auth()).status_code == 202
    wait_for(lambda: api.get("/api/v1/clickup/connection", headers=auth()).json()["last_sync_at"] != synced_before)
    joined = next(
        m for m in api.get("/api/v1/clickup/members", headers=auth()).json()["members"] if m["id"] == colleague["id"]
    )
    assert joined == {
        "id": colleague["id"],
        "username": "Robin Hood",
        "email": f"r{tag}@x.io",
        "initials": "RH",
        "role": "member",
    }


def test_members_of_a_workspace_not_authorized_are_refused_without_revealing_it(
    api, auth, stack, clickup, workspace
) -> None:
    _ready(api, auth, workspace)
    other = flows.connected_org(stack, api, clickup)  # another organisation's workspace
    for ws in (other["team_id"], "999999999"):
        answer = api.get(f"/api/v1/clickup/members?workspace_id={ws}", headers=auth())
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "workspace_not_found"), answer.text
        assert "F " not in answer.text
    bad = api.get("/api/v1/clickup/members?workspace_id=../x", headers=auth())
    assert bad.status_code == 422, bad.text


def test_members_need_a_connection(api, auth) -> None:
    answer = api.get("/api/v1/clickup/members", headers=auth())
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "not_connected"
