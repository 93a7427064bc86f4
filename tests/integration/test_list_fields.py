"""Issue 19: `GET /api/v1/clickup/lists/{list_id}/fields`, a list's custom fields for the settings' field mapping,
read from ClickUp's Get Accessible Custom Fields (`GET /list/{list_id}/field`) through the one client and the
organisation's rate limiter; only lists of the organisation's own synced hierarchy."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.repositories.table import main_table
from tests import flows

SPEC = Path(__file__).resolve().parents[3] / "shared" / "clickup" / "openapi.json"


def _list(workspace: dict[str, Any], name: str) -> dict[str, Any]:
    space = next(s for s in workspace["spaces"] if s["name"] == "Support")
    lists = space["lists"] + [lst for f in space["folders"] for lst in f["lists"]]
    return next(lst for lst in lists if lst["name"] == name)


def _requests(clickup: httpx.Client, since: int) -> tuple[list[dict[str, Any]], int]:
    body = clickup.get("/_emulator/requests", params={"since": since}).json()
    return body["requests"], body["next"]


def _fields_url(list_id: str) -> str:
    return f"/api/v1/clickup/lists/{list_id}/fields"


def test_a_lists_custom_fields_as_clickup_lists_them(api, auth, clickup, emulator, workspace) -> None:
    """Every field ClickUp shows on the list, in its order, with a drop-down's and a labels field's options named
    (a label's text is its `label`), and the ids the field mapping takes."""
    l1 = _list(workspace, "L1")
    emulator.backend.create_field(l1["id"], "Tags", "labels", ["red", "blue"])
    emulator.backend.create_field(l1["id"], "Customer tier", "short_text")
    emulator.backend.create_field(l1["id"], "Budget", "currency")
    flows.connect_with_token(api, auth(), workspace["token"])
    _, since = _requests(clickup, 0)
    answer = api.get(_fields_url(l1["id"]), headers=auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    calls, _ = _requests(clickup, since)
    assert [(c["method"], c["path"]) for c in calls if "/field" in c["path"]] == [
        ("GET", f"/api/v2/list/{l1['id']}/field")
    ]
    at_clickup = clickup.get(f"/api/v2/list/{l1['id']}/field", headers={"Authorization": workspace["token"]}).json()
    severity = next(f for f in workspace["spaces"][0]["folders"][0]["lists"][0]["fields"] if f["name"] == "Severity")
    assert body["list_id"] == l1["id"] and body["workspace_id"] == workspace["team_id"]
    assert [(f["id"], f["name"], f["type"]) for f in body["fields"]] == [
        (f["id"], f["name"], f["type"]) for f in at_clickup["fields"]
    ]
    assert [f["name"] for f in body["fields"]] == ["Severity", "Tags", "Customer tier", "Budget"]
    by_name = {f["name"]: f for f in body["fields"]}
    assert by_name["Severity"]["id"] == severity["id"]
    assert [(o["name"], o["id"]) for o in by_name["Severity"]["options"]] == list(severity["options"].items())
    assert [o["name"] for o in by_name["Tags"]["options"]] == ["red", "blue"]
    assert by_name["Customer tier"]["options"] == [] and by_name["Budget"]["type"] == "currency"
    # A member may read them too (they feed pickers); a list without custom fields has none
    member = api.get(_fields_url(_list(workspace, "Inbox")["id"]), headers=auth(role="member"))
    assert (member.status_code, member.json()["fields"]) == (200, []), member.text


def test_the_emulator_answers_get_accessible_custom_fields_as_documented(clickup, emulator, workspace) -> None:
    """The emulator's answer holds exactly the documented properties of ClickUp's reference (GetAccessibleCustomFields
    response schema in ../shared/clickup/openapi.json), every required one, and a type ClickUp documents."""
    spec = json.loads(SPEC.read_text())
    operation = spec["paths"]["/v2/list/{list_id}/field"]["get"]
    field_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["fields"]
    item = field_schema["items"]
    option = item["properties"]["type_config"]["properties"]["options"]["items"]
    l1 = _list(workspace, "L1")
    emulator.backend.create_field(l1["id"], "Tags", "labels", ["red"])
    with pytest.raises(ValueError):
        emulator.backend.create_field(l1["id"], "Nope", "no_such_type")
    answer = clickup.get(f"/api/v2/list/{l1['id']}/field", headers={"Authorization": workspace["token"]})
    assert answer.status_code == 200, answer.text
    fields = answer.json()["fields"]
    assert [f["type"] for f in fields] == ["drop_down", "labels"]
    for f in fields:
        assert set(item["required"]) <= set(f) <= set(item["properties"]), f
        assert isinstance(f["date_created"], str) and f["date_created"].isdigit()
        assert isinstance(f["hide_from_guests"], bool)
        for o in f["type_config"]["options"]:
            assert set(option["required"]) <= set(o) <= set(option["properties"]), o
    drop_down, labels = fields
    assert set(drop_down["type_config"]["options"][0]) == {"id", "name", "color", "orderindex"}
    assert set(labels["type_config"]["options"][0]) == {"id", "label", "color"}
    # An id the token cannot see answers as an unknown id does
    unknown = clickup.get("/api/v2/list/901299999999/field", headers={"Authorization": workspace["token"]})
    assert unknown.status_code in (401, 404), unknown.text


def test_another_organisations_list_is_404_without_asking_clickup(api, auth, stack, clickup, workspace) -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    other = flows.connected_org(stack, api, clickup)
    _, since = _requests(clickup, 0)
    theirs = api.get(_fields_url(other["list_id"]), headers=auth())
    never = api.get(_fields_url("901299999999"), headers=auth())
    for answer in (theirs, never):
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "list_not_found"), answer.text
    assert theirs.json() == never.json()  # nothing tells another organisation's list from none
    calls, _ = _requests(clickup, since)
    assert not [c for c in calls if "/field" in c["path"]]
    # ...while the other organisation reads its own list
    own = api.get(_fields_url(other["list_id"]), headers=other["auth"]())
    assert own.status_code == 200, own.text


def test_a_list_clickup_no_longer_has_is_404(api, auth, clickup, emulator, workspace, unknown_id_answer) -> None:
    """Synced, then gone at ClickUp before any webhook or sync says so: ClickUp answers an unknown id with 401
    OAUTH_023 or a 404 (both seen; the emulator's `unknown_id_answer`), and the route with 404 list_not_found."""
    flows.connect_with_token(api, auth(), workspace["token"])
    l2 = _list(workspace, "L2")
    with emulator.backend.lock:
        del emulator.backend.lists[l2["id"]]  # no webhook: the synced hierarchy still holds it
    answer = api.get(_fields_url(l2["id"]), headers=auth())
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "list_not_found"), answer.text
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "connected"


@pytest.mark.parametrize("list_id", ["..", "a%00b", "%F0%9F%98%80", "x" * 65, "%2e%2e%2f", "a%20b"])
def test_hostile_list_ids_are_422_before_any_lookup(api, auth, clickup, workspace, list_id: str) -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    _, since = _requests(clickup, 0)
    answer = api.get(f"/api/v1/clickup/lists/{list_id}/fields", headers=auth())
    if list_id in ("..", "%2e%2e%2f"):
        # API Gateway's own answer: the path, dot segments resolved (or a `/` decoded), names no route
        assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"}), answer.text
    else:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "validation_error"
    calls, _ = _requests(clickup, since)
    assert not [c for c in calls if "/field" in c["path"]]


def test_fields_need_a_connection_and_the_organisations_budget(api, auth, clickup, workspace, org_id) -> None:
    l1 = _list(workspace, "L1")
    refused = api.get(_fields_url(l1["id"]), headers=auth())
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_connected"), refused.text
    flows.connect_with_token(api, auth(), workspace["token"])
    # The organisation's ClickUp budget is blocked (a 429 seen by another of its functions): 429 with Retry-After,
    # and ClickUp is not asked
    until = time.time() + 30
    main_table().update_item(
        Key={"pk": f"RATE#{org_id}", "sk": "STATE"},
        UpdateExpression="SET blocked_until = :b",
        ExpressionAttributeValues={":b": Decimal(str(until))},
    )
    _, since = _requests(clickup, 0)
    try:
        spent = api.get(_fields_url(l1["id"]), headers=auth())
        assert (spent.status_code, spent.json()["error"]["code"]) == (429, "clickup_rate_limited"), spent.text
        assert 1 <= int(spent.headers["Retry-After"]) <= 31
        calls, _ = _requests(clickup, since)
        assert not [c for c in calls if "/field" in c["path"]]
    finally:
        main_table().update_item(
            Key={"pk": f"RATE#{org_id}", "sk": "STATE"},
            UpdateExpression="REMOVE blocked_until",
        )
    # ClickUp down: 503 clickup_unavailable, never a 5xx of ours
    rule = {"action": "status", "status": 503, "path": rf"/list/{l1['id']}/field$", "token": workspace["token"]}
    assert clickup.post("/_emulator/faults", json=rule).status_code == 200
    try:
        down = api.get(_fields_url(l1["id"]), headers=auth())
        assert (down.status_code, down.json()["error"]["code"]) == (503, "clickup_unavailable"), down.text
    finally:
        clickup.delete("/_emulator/faults")
    assert api.get(_fields_url(l1["id"]), headers=auth()).status_code == 200


def test_a_revoked_token_marks_the_connection_and_answers_needs_reauth(api, auth, clickup, workspace) -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    assert clickup.post(f"/_emulator/tokens/{workspace['token_id']}/revoke").status_code == 200
    answer = api.get(_fields_url(_list(workspace, "L1")["id"]), headers=auth())
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "needs_reauth"), answer.text
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "needs_reauth"
    events = api.get("/api/v1/clickup/events", headers=auth(), params={"limit": 500}).json()["events"]
    assert [e["data"]["detected_in"] for e in events if e["type"] == "clickup.connection.needs_reauth"] == [
        "list fields"
    ]


def test_every_route_that_refuses_a_revoked_connection_says_needs_reauth(api, auth, clickup, workspace) -> None:
    """A connection whose access ClickUp revoked is not "not connected": each route that refuses it (the fields,
    a sync now, linking a task) answers 409 `needs_reauth`, so the portal asks an admin to reconnect rather than
    to connect for the first time. (Routes reading what was synced, as the members, keep answering.)"""
    flows.connect_with_token(api, auth(), workspace["token"])
    l1 = _list(workspace, "L1")
    assert clickup.post(f"/_emulator/tokens/{workspace['token_id']}/revoke").status_code == 200
    assert api.get(_fields_url(l1["id"]), headers=auth()).json()["error"]["code"] == "needs_reauth"  # detected
    for method, path, body in (
        ("GET", _fields_url(l1["id"]), None),
        ("POST", "/api/v1/clickup/sync", None),
        ("PUT", "/api/v1/tickets/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d/clickup-task/link", {"task_id": "abc123"}),
    ):
        answer = api.request(method, path, headers=auth(), json=body)
        assert (answer.status_code, answer.json().get("error", {}).get("code")) == (409, "needs_reauth"), (
            path,
            answer.text,
        )


MALFORMED = ({}, {"fields": None}, "not an object", [1, 2], {"fields": "x"}, {"fields": [1]})


def test_a_clickup_answer_without_its_documented_shape_is_503_not_ours(api, auth, clickup, workspace) -> None:
    """ClickUp answering 2xx with a body that is not what it documents is ClickUp's outage (503
    `clickup_unavailable`, retry later), never a 500 nor a "stored record" error (nothing stored was read)."""
    l1 = _list(workspace, "L1")
    flows.connect_with_token(api, auth(), workspace["token"])
    task = clickup.post(
        f"/api/v2/list/{l1['id']}/task", headers={"Authorization": workspace["token"]}, json={"name": "Existing"}
    ).json()
    for body in MALFORMED:
        for method, route, path in (
            ("GET", _fields_url(l1["id"]), rf"/list/{l1['id']}/field$"),
            ("PUT", f"/api/v1/tickets/{uuid.uuid4()}/clickup-task/link", rf"/task/{task['id']}$"),
        ):
            rule = {"action": "status", "method": "GET", "path": path, "status": 200, "body": body, "count": 5}
            assert clickup.post("/_emulator/faults", json=rule).status_code == 200
            try:
                answer = api.request(
                    method, route, headers=auth(), json={"task_id": task["id"]} if method == "PUT" else None
                )
            finally:
                clickup.delete("/_emulator/faults")
            assert (answer.status_code, answer.json()["error"]["code"]) == (503, "clickup_unavailable"), (
                body,
                route,
                answer.text,
            )


def test_a_clickup_that_does_not_answer_is_503_before_the_functions_timeout(api, auth, clickup, workspace) -> None:
    """A ClickUp that holds the request: the route's ClickUp reads stop 5 s before the invocation's deadline, so the
    portal gets 503 `clickup_unavailable` from the bridge (not API Gateway's 500 when the function times out)."""
    l1 = _list(workspace, "L1")
    flows.connect_with_token(api, auth(), workspace["token"])
    task = clickup.post(
        f"/api/v2/list/{l1['id']}/task", headers={"Authorization": workspace["token"]}, json={"name": "Held"}
    ).json()
    rule = {"action": "timeout", "method": "GET", "path": rf"/task/{task['id']}$", "delay_s": 60, "count": 10}
    assert clickup.post("/_emulator/faults", json=rule).status_code == 200
    try:
        started = time.monotonic()
        answer = api.put(
            f"/api/v1/tickets/{uuid.uuid4()}/clickup-task/link", headers=auth(), json={"task_id": task["id"]}
        )
        took = time.monotonic() - started
    finally:
        clickup.delete("/_emulator/faults")
    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "clickup_unavailable"), answer.text
    assert took < 27, took  # the function's timeout is 29 s
