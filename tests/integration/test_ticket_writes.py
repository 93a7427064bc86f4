"""Issue 14, failures 6, 7 and 8 over the local stack: no write route answers 2xx for a change it will not make
(null clears what ClickUp can clear, and is refused where it cannot; assignees must be workspace members), ticket
input goes to ClickUp as ClickUp would store it, and each portal event type has one shape whatever found the
change (a webhook or the reconciliation sweep)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from bridge.repositories import audit
from tests import flows
from tests.conftest import send, wait_for
from tests.portal_events import problems


def _space(workspace: dict) -> dict:
    return next(s for s in workspace["spaces"] if s["name"] == "Support")


def _inbox(workspace: dict) -> dict:
    return _space(workspace)["lists"][0]


def _ready(api, auth, workspace) -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    body = {"space_id": _space(workspace)["id"], "list_id": _inbox(workspace)["id"]}
    assert api.put("/api/v1/customers/cust-1/clickup-space", headers=auth(), json=body).status_code == 200


def _ticket(**overrides) -> dict:
    return {"title": "Printer on fire", "priority": "urgent", "customer_id": "cust-1", **overrides}


def _applied(api, auth, ticket_id: str) -> dict:
    def check():
        body = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
        return body if body.get("state") == "created" and body["pending_changes"] == 0 else None

    return wait_for(check, timeout_s=30)


def _task(clickup: httpx.Client, workspace: dict, task_id: str) -> dict:
    return clickup.get(f"/api/v2/task/{task_id}", headers={"Authorization": workspace["token"]}).json()


def _events(api, auth, ticket_id: str, kind: str | None = None) -> list[dict]:
    events, cursor = [], None
    while True:
        params = {"limit": 500, **({"after": cursor} if cursor else {})}
        body = api.get("/api/v1/clickup/events", headers=auth(), params=params).json()
        if not body["events"]:
            break
        events += body["events"]
        cursor = body["cursor"]
    return [e for e in events if e.get("ticket_id") == ticket_id and (kind is None or e["type"] == kind)]


def _created(api, auth, workspace, **ticket) -> tuple[str, dict]:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    answer = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket(**ticket))
    assert answer.status_code == 202, answer.text
    return ticket_id, _applied(api, auth, ticket_id)


# -- failure 6: null, absent, empty, unknown -------------------------------------------------------------------
def test_null_clears_priority_due_date_and_assignees_at_clickup_and_is_not_echoed(
    api, auth, clickup, workspace, org_id
) -> None:
    me = workspace["user"]["id"]
    ticket_id, link = _created(api, auth, workspace, due_date="2026-12-24")
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.patch(url, headers=auth(), json={"assignees": [me]}).status_code == 202
    link = _applied(api, auth, ticket_id)
    task = _task(clickup, workspace, link["task_id"])
    assert (link["priority"], link["due_date"], link["assignees"]) == ("urgent", "2026-12-24", [me])
    assert task["priority"]["priority"] == "urgent" and task["due_date"]
    assert [a["id"] for a in task["assignees"]] == [me]

    for change in ({"priority": None}, {"due_date": None}, {"assignees": None}):
        assert api.patch(url, headers=auth(), json=change).status_code == 202, change
    link = _applied(api, auth, ticket_id)
    assert (link["priority"], link["due_date"], link["assignees"]) == (None, None, [])
    task = _task(clickup, workspace, link["task_id"])
    assert (task["priority"], task["due_date"], task["assignees"]) == (None, None, [])
    updates = [(r["before"], r["after"]) for r in audit.trail(org_id, ticket_id) if r["action"] == "updated"][-3:]
    assert updates == [
        ({"priority": "urgent"}, {"priority": None}),
        ({"due_date": "2026-12-24"}, {"due_date": None}),
        ({"assignees": [me]}, {"assignees": []}),
    ]
    # The echoes of our own clearing are not news for the portal, nor a ClickUp user's change
    time.sleep(1.5)
    reported = {e["type"] for e in _events(api, auth, ticket_id)}
    assert not reported & {
        "clickup.task.priority_changed",
        "clickup.task.due_date_changed",
        "clickup.task.assignees_changed",
    }
    assert "clickup_changed" not in [r["action"] for r in audit.trail(org_id, ticket_id)]
    # [] is the same as null: nobody, also someone assigned at ClickUp whom the link does not know of yet
    assert api.patch(url, headers=auth(), json={"assignees": [me]}).status_code == 202
    assert _applied(api, auth, ticket_id)["assignees"] == [me]
    colleague = clickup.post("/_emulator/users", json={"username": "Lee", "email": f"{uuid.uuid4().hex}@x.io"}).json()
    clickup.post(f"/_emulator/teams/{workspace['team_id']}/members", json={"user_id": colleague["id"]})
    clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 1.0})  # the link never hears of it
    try:
        assigned = clickup.post(
            "/_emulator/act",
            json={"user_id": me, "action": "assign", "task_id": link["task_id"], "assignee": colleague["id"]},
        )
        assert assigned.status_code == 200
        assert api.patch(url, headers=auth(), json={"assignees": []}).status_code == 202
        assert _applied(api, auth, ticket_id)["assignees"] == []
    finally:
        clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 0, "duplicate_ratio": 0, "reorder_ratio": 0})
    assert _task(clickup, workspace, link["task_id"])["assignees"] == []


@pytest.mark.parametrize(("reading", "code"), [("refused", "INPUT_003"), ("ignored", "change_not_applied")])
def test_under_every_reading_of_a_null_update_the_portal_learns_what_was_not_done(
    api, auth, clickup, workspace, emulator, reading, code
) -> None:
    """ClickUp's Update Task schema does not allow `priority: null` (Create Task does): should ClickUp refuse it
    (400) or answer 200 and keep the priority, the change is reported failed and the link keeps what ClickUp has."""
    ticket_id, link = _created(api, auth, workspace, due_date="2026-12-24")
    emulator.backend.update_null = reading
    try:
        url = f"/api/v1/tickets/{ticket_id}/clickup-task"
        assert api.patch(url, headers=auth(), json={"priority": None}).status_code == 202
        failed = wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.change_failed"))
    finally:
        emulator.backend.update_null = "clears"
    assert failed[0]["data"]["code"] == code and failed[0]["data"]["change"]["priority"] is None
    link = _applied(api, auth, ticket_id)
    assert link["priority"] == "urgent" and link["due_date"] == "2026-12-24"
    assert _task(clickup, workspace, link["task_id"])["priority"]["priority"] == "urgent"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"status": None}, "status_not_clearable"),
        ({"status": "   "}, "status_not_mapped"),
        ({"due_date": ""}, "date_invalid"),
        ({"due_date": "0001-01-01"}, "date_out_of_range"),
        ({"due_date": "2101-01-01"}, "date_out_of_range"),
        ({"due_date": "1969-12-31T23:59:59Z"}, "date_out_of_range"),
        ({"due_date": "1970-01-01T00:30:00+01:00"}, "date_out_of_range"),  # 1969 in UTC: a negative date
        ({}, "empty_change"),
    ],
)
def test_changes_that_cannot_be_made_are_refused_with_a_code(api, auth, workspace, org_id, body, code) -> None:
    ticket_id, _ = _created(api, auth, workspace)

    def accepted() -> list[dict]:  # what the portal's users were recorded doing (the worker may still be writing)
        return [row for row in audit.trail(org_id, ticket_id) if str(row.get("actor", "")).startswith("user:")]

    before = len(accepted())
    answer = api.patch(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=body)
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, code), answer.text
    assert len(accepted()) == before  # nothing accepted


def test_a_blank_comment_is_refused(api, auth, workspace) -> None:
    ticket_id, _ = _created(api, auth, workspace)
    for text in ("   ", "\n\t"):
        answer = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task/comments", headers=auth(), json={"text": text})
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "comment_empty")


def test_an_assignee_outside_the_workspace_is_refused_until_a_sync_sees_them_join(
    api, auth, clickup, workspace
) -> None:
    ticket_id, _ = _created(api, auth, workspace)
    colleague = clickup.post("/_emulator/users", json={"username": "Sam", "email": f"{uuid.uuid4().hex}@x.io"}).json()
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    answer = api.patch(url, headers=auth(), json={"assignees": [workspace["user"]["id"], colleague["id"]]})
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "assignee_not_member"), answer.text
    assert answer.json()["error"]["details"]["user_ids"] == [colleague["id"]]
    assert api.patch(url, headers=auth(), json={"assignees": [987654321]}).status_code == 422
    # They join the workspace at ClickUp; the next full sync refreshes the members
    clickup.post(f"/_emulator/teams/{workspace['team_id']}/members", json={"user_id": colleague["id"]})
    synced_before = api.get("/api/v1/clickup/connection", headers=auth()).json()["last_sync_at"]
    assert api.post("/api/v1/clickup/sync", headers=auth()).status_code == 202
    wait_for(lambda: api.get("/api/v1/clickup/connection", headers=auth()).json()["last_sync_at"] != synced_before)
    assert api.patch(url, headers=auth(), json={"assignees": [colleague["id"]]}).status_code == 202
    link = _applied(api, auth, ticket_id)
    assert link["assignees"] == [colleague["id"]]
    assert [a["id"] for a in _task(clickup, workspace, link["task_id"])["assignees"]] == [colleague["id"]]


def test_an_assignee_clickup_leaves_out_is_reported_not_silently_dropped(api, auth, clickup, workspace) -> None:
    """The members the bridge knows are a cache: someone removed from the workspace since is accepted, ClickUp
    leaves them out, and the portal is told (`clickup.task.change_failed`, code `assignee_not_applied`)."""
    colleague = clickup.post("/_emulator/users", json={"username": "Kim", "email": f"{uuid.uuid4().hex}@x.io"}).json()
    clickup.post(f"/_emulator/teams/{workspace['team_id']}/members", json={"user_id": colleague["id"]})
    ticket_id, _ = _created(api, auth, workspace)  # connected: the members (with the colleague) are cached
    clickup.post(f"/_emulator/teams/{workspace['team_id']}/members", json={"user_id": colleague["id"], "remove": True})
    me = workspace["user"]["id"]
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.patch(url, headers=auth(), json={"assignees": [me, colleague["id"]]}).status_code == 202
    link = _applied(api, auth, ticket_id)
    assert link["assignees"] == [me]  # what ClickUp holds
    failed = wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.change_failed"))
    assert failed[0]["data"]["code"] == "assignee_not_applied"
    assert failed[0]["data"]["change"]["assignees"] == [colleague["id"]]


def test_settings_refuse_an_empty_field_mapping(api, auth, workspace) -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    settings = api.get("/api/v1/clickup/settings", headers=auth()).json()
    for mapping in ({"severity": ""}, {"": "f-1"}, {"severity": "   "}):
        answer = api.put("/api/v1/clickup/settings", headers=auth(), json={**settings, "field_mapping": mapping})
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "field_mapping_empty"), mapping


# -- failure 7: ticket input as ClickUp stores it ------------------------------------------------------------
def test_ticket_input_reaches_clickup_normalised(api, auth, clickup, workspace) -> None:
    ticket_id, link = _created(
        api,
        auth,
        workspace,
        title="  Printer\non\r\nfire\t\x00again\u2028 ",
        tags=["", "  Padded ", "VIP", "vip", "padded", " \t "],
        requester={"name": "Ann\nExample"},
    )
    task = _task(clickup, workspace, link["task_id"])
    assert task["name"] == f"[TICKET-{ticket_id}] Printer on fire again"
    assert [t["name"] for t in task["tags"]] == ["padded", "vip"]
    description = clickup.get("/_emulator/tasks").json()["tasks"]
    markdown = next(t for t in description if t["id"] == link["task_id"])["markdown_description"]
    lines = [line for line in markdown.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), markdown
    assert markdown.count(ticket_id) == 1  # without ticket_url, the ticket is named once
    assert "**Requester:** Ann Example" in markdown


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"due_date": "0001-01-01"}, "date_out_of_range"),
        ({"due_date": "2101-01-01"}, "date_out_of_range"),
        ({"due_date": "1969-12-31T23:00:00-00:30"}, "date_out_of_range"),
        ({"due_date": ""}, "date_invalid"),
        ({"title": "\n\t \x07"}, "title_empty"),
        ({"requester": {"name": " \n "}}, "requester_name_empty"),
        ({"ticket_url": "https://portal.example.com/t/1\nInjected: line"}, "validation_error"),
    ],
)
def test_ticket_input_that_cannot_be_right_is_refused(api, auth, workspace, overrides, code) -> None:
    _ready(api, auth, workspace)
    answer = api.post(f"/api/v1/tickets/{uuid.uuid4()}/clickup-task", headers=auth(), json=_ticket(**overrides))
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, code), answer.text


# -- failure 8: one event type, one shape ------------------------------------------------------------------------
def _act(clickup: httpx.Client, workspace: dict, **body) -> None:
    answer = clickup.post("/_emulator/act", json={"user_id": workspace["user"]["id"], **body})
    assert answer.status_code == 200, answer.text


def test_an_event_type_has_one_shape_from_the_webhook_and_from_the_sweep(
    api, auth, clickup, workspace, stack, org_id
) -> None:
    ticket_id, link = _created(api, auth, workspace)
    task_id = link["task_id"]
    _act(clickup, workspace, action="set_status", task_id=task_id, status="doing")  # delivered: a webhook
    wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.status_changed"))
    clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 1.0})
    try:
        _act(clickup, workspace, action="set_status", task_id=task_id, status="done")  # only the sweep finds it
        _act(clickup, workspace, action="set_priority", task_id=task_id, priority=4)
        _act(clickup, workspace, action="assign", task_id=task_id, assignee=workspace["user"]["id"])
        time.sleep(0.5)
        send(
            stack,
            "maintenance",
            {"kind": "sweep", "org_id": org_id},
            MessageGroupId=org_id,
            MessageDeduplicationId=uuid.uuid4().hex,
        )
        wait_for(lambda: len(_events(api, auth, ticket_id, "clickup.task.status_changed")) == 2, timeout_s=30)
    finally:
        clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 0, "duplicate_ratio": 0, "reorder_ratio": 0})
    webhook, sweep = _events(api, auth, ticket_id, "clickup.task.status_changed")
    assert set(webhook["data"]) == set(sweep["data"])
    assert (webhook["data"]["status"], webhook["data"]["previous"]) == ("doing", "new")
    assert (sweep["data"]["status"], sweep["data"]["previous"]) == ("done", "doing")  # the sweep knows it too
    priority = wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.priority_changed"))[0]["data"]
    assert (priority["priority"], priority["previous"]) == ("low", "urgent")
    assignees = wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.assignees_changed"))[0]["data"]
    me = workspace["user"]["id"]
    assert (assignees["assignees"], assignees["added"], assignees["removed"]) == ([me], [me], [])
    for event in _events(api, auth, ticket_id):
        assert problems(event) == [], event


# -- due dates with an offset: stored canonically, compared as instants ------------------------------------------
def _sweep_done(stack, org_id: str, workspace: dict, before: object) -> object:
    """Run one sweep for the organisation and wait until its checkpoint of the workspace moved past `before`."""
    client, table = stack.aws.client("dynamodb"), stack.environment()["TABLE_NAME"]
    key = {"pk": {"S": f"ORG#{org_id}"}, "sk": {"S": f"SWEEP#{workspace['team_id']}"}}
    send(
        stack,
        "maintenance",
        {"kind": "sweep", "org_id": org_id},
        MessageGroupId=org_id,
        MessageDeduplicationId=uuid.uuid4().hex,
    )

    def moved():
        item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return item if item is not None and item != before else None

    return wait_for(moved, timeout_s=30)


def test_a_due_date_with_an_offset_is_stored_as_its_utc_instant_and_a_sweep_reports_nothing(
    api, auth, clickup, workspace, stack, org_id
) -> None:
    # in range once in UTC; its offset form names the same instant ClickUp gives back in ms
    ticket_id, link = _created(api, auth, workspace, due_date="1969-12-31T23:00:00-02:00")
    assert link["due_date"] == "1970-01-01T01:00:00Z"
    assert _task(clickup, workspace, link["task_id"])["due_date"] == str(3_600_000)
    mark = _sweep_done(stack, org_id, workspace, None)
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.patch(url, headers=auth(), json={"due_date": "2027-06-01T10:00:00+05:30"}).status_code == 202
    wait_for(lambda: _applied(api, auth, ticket_id)["due_date"] == "2027-06-01T04:30:00Z")
    time.sleep(0.01)
    _sweep_done(stack, org_id, workspace, mark)
    time.sleep(1)  # the portal events of the sweep, had it reported anything
    assert _events(api, auth, ticket_id, "clickup.task.due_date_changed") == []
    assert "clickup_changed" not in [r["action"] for r in audit.trail(org_id, ticket_id)]
    assert api.get(url, headers=auth()).json()["due_date"] == "2027-06-01T04:30:00Z"


def test_a_link_holding_a_due_date_with_an_offset_is_the_same_instant_to_the_sweep(
    api, auth, clickup, workspace, stack, org_id
) -> None:
    ticket_id, link = _created(api, auth, workspace, due_date="2027-06-01T04:30:00Z")
    assert link["due_date"] == "2027-06-01T04:30:00Z"
    # a link written before due dates were stored canonically holds the portal's offset form
    stack.aws.client("dynamodb").update_item(
        TableName=stack.environment()["TABLE_NAME"],
        Key={"pk": {"S": f"ORG#{org_id}"}, "sk": {"S": f"TICKET#{ticket_id}"}},
        UpdateExpression="SET due_date = :d",
        ExpressionAttributeValues={":d": {"S": "2027-06-01T10:00:00+05:30"}},
    )
    _sweep_done(stack, org_id, workspace, None)
    time.sleep(1)
    assert _events(api, auth, ticket_id, "clickup.task.due_date_changed") == []
    assert "clickup_changed" not in [r["action"] for r in audit.trail(org_id, ticket_id)]
