"""ClickUp → portal over the local stack: the emulator's real signed deliveries reach `POST /webhooks/clickup`,
only genuine bytes are accepted, and the processor turns them into link changes and portal events (once each,
in ClickUp's order, without our own echoes)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests import flows
from tests.conftest import send, wait_for


def _space(workspace: dict) -> dict:
    return next(s for s in workspace["spaces"] if s["name"] == "Support")


def _inbox(workspace: dict) -> dict:
    return _space(workspace)["lists"][0]


def _ready(api, auth, workspace, customer: str = "cust-1") -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    body = {"space_id": _space(workspace)["id"], "list_id": _inbox(workspace)["id"]}
    assert api.put(f"/api/v1/customers/{customer}/clickup-space", headers=auth(), json=body).status_code == 200


def _hook(clickup: httpx.Client, workspace: dict) -> dict:
    hooks = clickup.get("/_emulator/webhooks").json()["webhooks"]
    return next(h for h in hooks if str(h["team_id"]) == str(workspace["team_id"]))


def _sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _created_task(api, auth, clickup, ticket_id: str, **ticket) -> dict:
    body = {"title": "Webhook me", "priority": "normal", "customer_id": "cust-1", **ticket}
    assert api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=body).status_code == 202
    return wait_for(
        lambda: (lambda b: b if b.get("state") == "created" else None)(
            api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
        ),
        timeout_s=30,
    )


def _events(api, auth, ticket_id: str | None = None, kind: str | None = None) -> list[dict]:
    events, cursor = [], None
    while True:
        params = {"limit": 200, **({"after": cursor} if cursor else {})}
        page = api.get("/api/v1/clickup/events", headers=auth(), params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        events += body["events"]
        if not body["events"]:
            break
        cursor = body["cursor"]
    return [
        e
        for e in events
        if (ticket_id is None or e.get("ticket_id") == ticket_id) and (kind is None or e["type"] == kind)
    ]


def _act(clickup: httpx.Client, workspace: dict, **body) -> dict:
    answer = clickup.post("/_emulator/act", json={"user_id": workspace["user"]["id"], **body})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _delivered(clickup: httpx.Client, hook_id: str) -> None:
    wait_for(lambda: clickup.get("/_emulator/deliveries", params={"webhook_id": hook_id}).json()["idle"])


# -- ingestion ---------------------------------------------------------------------------------------------
def test_only_genuine_bytes_are_accepted(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    hook = _hook(clickup, workspace)
    payload = {"event": "taskUpdated", "history_items": [], "task_id": "nope", "webhook_id": hook["id"]}
    # Bytes that differ from a re-serialization of their JSON: whitespace, key order, unicode as is.
    raw = (
        '{ "webhook_id" : "' + hook["id"] + '",\n  "event":"taskUpdated", "task_id":"nope", '
        '"history_items":[], "note":"héllo ✓"}'
    ).encode("utf-8")
    assert json.dumps(json.loads(raw)).encode() != raw

    def post(body: bytes, signature: str | None, content_type: str = "application/json") -> httpx.Response:
        headers = {"Content-Type": content_type, **({"X-Signature": signature} if signature is not None else {})}
        return api.post("/webhooks/clickup", content=body, headers=headers)

    assert post(raw, _sign(hook["secret"], raw)).status_code == 200
    assert post(raw, _sign(hook["secret"], raw).upper()).status_code == 200  # hex case is not the secret
    # base64: a media type API Gateway does not treat as text reaches the function base64-encoded
    assert post(raw, _sign(hook["secret"], raw), content_type="application/octet-stream").status_code == 200
    reserialized = json.dumps(json.loads(raw)).encode()
    rejected = {
        "tampered body": post(raw.replace(b"nope", b"nopf"), _sign(hook["secret"], raw)),
        "re-serialized body": post(reserialized, _sign(hook["secret"], raw)),
        "wrong secret": post(raw, _sign("not-the-secret", raw)),
        "missing header": post(raw, None),
        "empty header": post(raw, ""),
    }
    for name, answer in rejected.items():
        assert answer.status_code == 401, name
        assert answer.json()["error"]["code"] in {"invalid_signature", "missing_signature"}, name
    unknown = json.dumps({**payload, "webhook_id": str(uuid.uuid4())}).encode()
    answer = post(unknown, _sign(hook["secret"], unknown))
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "unknown_webhook")
    not_json = b"event=taskUpdated"
    answer = post(not_json, _sign(hook["secret"], not_json))
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_body")
    assert "secret" not in answer.text


def test_another_organisations_secret_does_not_sign_for_this_one(api, auth, clickup, workspace, stack) -> None:
    _ready(api, auth, workspace)
    mine = _hook(clickup, workspace)
    other_org = f"org-{uuid.uuid4().hex[:8]}"
    other_ws = _other_workspace(clickup)
    flows.connect_with_token(api, auth(org=other_org), other_ws["token"])
    theirs = _hook(clickup, other_ws)
    assert theirs["secret"] != mine["secret"]
    raw = json.dumps({"event": "taskUpdated", "history_items": [], "task_id": "x", "webhook_id": mine["id"]}).encode()
    answer = api.post("/webhooks/clickup", content=raw, headers={"X-Signature": _sign(theirs["secret"], raw)})
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "invalid_signature")


def _other_workspace(clickup: httpx.Client) -> dict:
    tag = uuid.uuid4().hex[:6]
    user = clickup.post("/_emulator/users", json={"username": f"O {tag}", "email": f"o{tag}@example.com"}).json()
    seeded = clickup.post(
        "/_emulator/seed",
        json={
            "user_id": user["id"],
            "workspace": {"name": f"Other {tag}", "spaces": [{"name": "S", "lists": [{"name": "L"}]}]},
        },
    ).json()
    token = clickup.post(f"/_emulator/users/{user['id']}/tokens").json()
    return {"user": user, "token": token["token"], **seeded}


# -- processing --------------------------------------------------------------------------------------------
def test_a_clickup_users_changes_reach_the_link_and_the_portal_once(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    link = _created_task(api, auth, clickup, ticket_id)
    task_id = link["task_id"]
    hook = _hook(clickup, workspace)
    _act(clickup, workspace, action="set_status", task_id=task_id, status="doing")
    _act(clickup, workspace, action="set_priority", task_id=task_id, priority=1)
    _act(clickup, workspace, action="comment", task_id=task_id, text="Looking into it")
    _act(clickup, workspace, action="assign", task_id=task_id, assignee=workspace["user"]["id"])
    _delivered(clickup, hook["id"])

    def settled():
        body = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
        done = (body["status"], body["priority"], body["assignees"]) == ("doing", "urgent", [workspace["user"]["id"]])
        return body if done and _events(api, auth, ticket_id, "clickup.task.comment_added") else None

    wait_for(settled, timeout_s=30)
    # ClickUp sent each change twice (the granular event and the generic taskUpdated): reported once each
    assert len(_events(api, auth, ticket_id, "clickup.task.status_changed")) == 1, json.dumps(
        _events(api, auth, ticket_id, "clickup.task.status_changed")
    )
    assert len(_events(api, auth, ticket_id, "clickup.task.priority_changed")) == 1
    assert len(_events(api, auth, ticket_id, "clickup.task.assignees_changed")) == 1
    comment = _events(api, auth, ticket_id, "clickup.task.comment_added")
    assert [c["data"]["text"] for c in comment] == ["Looking into it"]
    status_event = _events(api, auth, ticket_id, "clickup.task.status_changed")[0]
    assert status_event["data"]["status"] == "doing" and status_event["data"]["previous"] == "new"
    assert status_event["data"]["by"] == f"clickup:user:{workspace['user']['id']}"
    history = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task/history", headers=auth()).json()["entries"]
    assert any(e["action"] == "clickup_changed" and e["after"].get("status") == "doing" for e in history)


def test_our_own_changes_come_back_as_echoes_not_news(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    link = _created_task(api, auth, clickup, ticket_id)
    hook = _hook(clickup, workspace)
    api.patch(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json={"priority": "urgent"})
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task/comments", headers=auth(), json={"text": "from the portal"})
    wait_for(
        lambda: api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["pending_changes"] == 0
    )
    _delivered(clickup, hook["id"])
    time.sleep(1.0)  # the processor's queue drains
    assert _events(api, auth, ticket_id, "clickup.task.priority_changed") == []
    assert _events(api, auth, ticket_id, "clickup.task.comment_added") == []
    # ...while a ClickUp user's own change to the same field is news
    _act(clickup, workspace, action="set_priority", task_id=link["task_id"], priority=4)
    wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.priority_changed"))
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["priority"] == "low"


def _deliver(api, hook: dict, payload: dict) -> None:
    raw = json.dumps({**payload, "webhook_id": hook["id"]}).encode()
    answer = api.post("/webhooks/clickup", content=raw, headers={"X-Signature": _sign(hook["secret"], raw)})
    assert answer.status_code == 200, answer.text


def _linked_task(api, auth, clickup, workspace) -> tuple[str, str, dict]:
    """A connected organisation's ticket with its task created, and the organisation's ClickUp webhook."""
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id)["task_id"]
    return ticket_id, task_id, _hook(clickup, workspace)


def _status_item(hid: str, date_ms: int, before: str, after: str) -> dict:
    return {
        "id": hid,
        "type": 1,
        "date": str(date_ms),
        "field": "status",
        "parent_id": "1",
        "data": {},
        "source": None,
        "user": {"id": 183, "username": "John"},
        "before": {"status": before, "type": "open"},
        "after": {"status": after, "type": "custom"},
    }


def test_an_older_change_never_overwrites_a_newer_one_and_duplicates_change_nothing(
    api, auth, clickup, workspace
) -> None:
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    now = int(time.time() * 1000) + 60_000
    newer = {
        "event": "taskStatusUpdated",
        "task_id": task_id,
        "history_items": [_status_item("h-2", now, "doing", "done")],
    }
    older = {
        "event": "taskStatusUpdated",
        "task_id": task_id,
        "history_items": [_status_item("h-1", now - 5000, "new", "doing")],
    }
    _deliver(api, hook, newer)
    wait_for(lambda: api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["status"] == "done")
    _deliver(api, hook, older)  # arrives late
    _deliver(api, hook, newer)  # and ClickUp re-sends
    wait_for(lambda: len(_events(api, auth, ticket_id, "clickup.task.status_changed")) >= 2)
    time.sleep(1.0)
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["status"] == "done"
    events = _events(api, auth, ticket_id, "clickup.task.status_changed")
    assert sorted((e["data"]["status"], e["data"]["current"]) for e in events) == [("doing", False), ("done", True)]


def test_an_earlier_change_to_the_value_a_later_change_set_is_still_news(api, auth, clickup, workspace) -> None:
    """new → doing (h-1), doing → done (h-2), done → doing (h-3), delivered h-3 first: h-1 set the value the link
    already holds, yet it is a change of its own, not a re-delivery."""
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    now = int(time.time() * 1000) + 60_000
    items = {
        "h-1": _status_item(f"{ticket_id}-1", now - 2000, "new", "doing"),
        "h-2": _status_item(f"{ticket_id}-2", now - 1000, "doing", "done"),
        "h-3": _status_item(f"{ticket_id}-3", now, "done", "doing"),
    }

    def deliver(name: str) -> None:
        _deliver(api, hook, {"event": "taskStatusUpdated", "task_id": task_id, "history_items": [items[name]]})

    deliver("h-3")  # the latest first (applied before the rest are sent: the processor runs deliveries at once)
    wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.status_changed"))
    for name in ("h-1", "h-2", "h-1", "h-3"):  # then the rest, and re-sends
        deliver(name)
    wait_for(lambda: len(_events(api, auth, ticket_id, "clickup.task.status_changed")) >= 3)
    time.sleep(1.0)
    events = _events(api, auth, ticket_id, "clickup.task.status_changed")
    reported = sorted((e["data"]["changed_at"], e["data"]["status"], e["data"]["current"]) for e in events)
    assert [(status, current) for _, status, current in reported] == [
        ("doing", False),
        ("done", False),
        ("doing", True),
    ]
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["status"] == "doing"


def test_the_late_echo_of_an_older_write_of_ours_changes_nothing(api, auth, clickup, workspace, delivery) -> None:
    """The portal sets doing, then done; ClickUp's webhook for "doing" arrives after the one for "done"."""
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    delivery(drop_ratio=1.0)  # hold every echo back: they are delivered below, in reverse
    assert api.patch(url, headers=auth(), json={"status": "doing"}).status_code == 202
    assert api.patch(url, headers=auth(), json={"status": "done", "priority": "high"}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    _delivered(clickup, hook["id"])
    held = [
        d["body"]
        for d in clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["deliveries"]
        if d["outcome"] == "discarded" and d["body"].get("task_id") == task_id
    ]
    statuses = {i["after"]["status"] for b in held for i in b["history_items"] if i["field"] == "status"}
    assert statuses == {"doing", "done"}
    before = [e["action"] for e in _history(api, auth, ticket_id)]
    for body in reversed(held):
        _deliver(api, hook, body)
    time.sleep(1.5)  # the processor's queue drains
    link = api.get(url, headers=auth()).json()
    assert (link["status"], link["priority"]) == ("done", "high")
    assert _events(api, auth, ticket_id, "clickup.task.status_changed") == []
    assert _events(api, auth, ticket_id, "clickup.task.priority_changed") == []
    audit_actions = [e["action"] for e in _history(api, auth, ticket_id)]
    assert audit_actions == before and "clickup_changed" not in audit_actions


def _history(api, auth, ticket_id: str) -> list[dict]:
    answer = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task/history", headers=auth())
    assert answer.status_code == 200, answer.text
    return answer.json()["entries"]


def test_a_due_date_set_in_clickup_reads_as_the_portal_wrote_it(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id, due_date="2027-03-01")["task_id"]
    # noon of 2027-03-09 in the workspace's zone (the connected user's; UTC here), as the bridge places dates
    noon_utc = 1_804_593_600_000  # 2027-03-09T12:00:00Z
    _act(clickup, workspace, action="set_due_date", task_id=task_id, due_date=noon_utc)
    wait_for(
        lambda: api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["due_date"] == "2027-03-09"
    )
    event = wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.due_date_changed"))[0]
    assert event["data"]["due_date"] == "2027-03-09"


def test_move_and_delete_follow_the_task(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id)["task_id"]
    target = _space(workspace)["folders"][0]["lists"][1]["id"]
    _act(clickup, workspace, action="move", task_id=task_id, list_id=target)
    wait_for(lambda: api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["list_id"] == target)
    assert _events(api, auth, ticket_id, "clickup.task.moved")[0]["data"]["list_id"] == target
    _act(clickup, workspace, action="delete", task_id=task_id)
    wait_for(lambda: api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["state"] == "deleted")
    assert len(_events(api, auth, ticket_id, "clickup.task.deleted")) == 1


def test_unlinked_tasks_are_ignored_and_hierarchy_events_refresh_the_sync(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    before = len(_events(api, auth))
    task = _act(
        clickup, workspace, action="create_task", list_id=_inbox(workspace)["id"], task={"name": "Not a ticket"}
    )
    _act(clickup, workspace, action="set_status", task_id=task["id"], status="doing")
    created = _act(clickup, workspace, action="create_list", space_id=_space(workspace)["id"], name="Fresh list")

    def listed():
        tree = api.get("/api/v1/clickup/spaces", headers=auth()).json()
        lists = [lst for s in tree["spaces"] for lst in s.get("lists", [])]
        return any(lst["id"] == created["id"] for lst in lists)

    wait_for(listed, timeout_s=30)
    assert [e for e in _events(api, auth)[before:] if e.get("task_id") == task["id"]] == []


def test_the_feed_pages_in_order_and_belongs_to_its_organisation(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id)["task_id"]
    for status in ["doing", "done", "new", "doing"]:
        _act(clickup, workspace, action="set_status", task_id=task_id, status=status)
    wait_for(lambda: len(_events(api, auth, ticket_id, "clickup.task.status_changed")) == 4)
    first = api.get("/api/v1/clickup/events", headers=auth(), params={"limit": 2}).json()
    second = api.get("/api/v1/clickup/events", headers=auth(), params={"limit": 2, "after": first["cursor"]}).json()
    assert len(first["events"]) == 2 and second["events"]
    assert not {e["id"] for e in first["events"]} & {e["id"] for e in second["events"]}
    everything = _events(api, auth)
    assert [e["id"] for e in everything[:4]] == [e["id"] for e in first["events"] + second["events"]][:4]
    stranger = auth(org=f"org-{uuid.uuid4().hex[:8]}")
    assert api.get("/api/v1/clickup/events", headers=stranger).json()["events"] == []
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task/history", headers=stranger).status_code == 404
    bad = api.get("/api/v1/clickup/events", headers=auth(), params={"after": "../../etc"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("sample", ["taskStatusUpdated", "taskAssigneeUpdated", "taskMoved", "taskCreated"])
def test_documented_samples_parse_into_changes(sample: str) -> None:
    from bridge.webhooks.processing import changes_from_history
    from tests.conftest import shared_clickup

    payload = json.loads(shared_clickup("webhook-samples", f"{sample}.json").read_text())
    changes = changes_from_history(payload["event"], payload["task_id"], payload["history_items"])
    fields = {c.field for c in changes}
    expected = {"taskStatusUpdated": {"status"}, "taskAssigneeUpdated": {"assignees"}, "taskMoved": {"list_id"}}
    assert fields >= expected.get(sample, set())
    assert all(c.key.startswith("history:") and c.date_ms > 0 for c in changes)


# -- reconciliation and health -----------------------------------------------------------------------------
@pytest.fixture
def delivery(clickup: httpx.Client):
    yield lambda **config: clickup.put("/_emulator/webhooks/delivery", json=config).raise_for_status()
    clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 0, "duplicate_ratio": 0, "reorder_ratio": 0})


def _job(stack, kind: str, org: str) -> None:
    send(
        stack, "maintenance", {"kind": kind, "org_id": org}, MessageGroupId=org, MessageDeduplicationId=uuid.uuid4().hex
    )


def test_one_sweep_repairs_what_dropped_deliveries_missed(
    api, auth, clickup, workspace, stack, org_id, delivery
) -> None:
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    delivery(drop_ratio=1.0)  # ClickUp gives up on every event
    _act(clickup, workspace, action="set_status", task_id=task_id, status="done")
    _act(clickup, workspace, action="set_priority", task_id=task_id, priority=2)
    _delivered(clickup, hook["id"])
    time.sleep(0.5)
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["status"] == "new"
    _job(stack, "sweep", org_id)

    def repaired():
        body = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
        return (body["status"], body["priority"]) == ("done", "high")

    wait_for(repaired, timeout_s=30)
    _job(stack, "sweep", org_id)  # a second sweep over the overlap reports nothing again
    # ...nor do the dropped deliveries, should they arrive after all (the sweep reported those changes)
    dropped = [
        d
        for d in clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["deliveries"]
        if d["outcome"] == "discarded" and d["body"].get("task_id") == task_id
    ]
    assert dropped
    for d in dropped:
        _deliver(api, hook, d["body"])
    time.sleep(2)
    assert len(_events(api, auth, ticket_id, "clickup.task.status_changed")) == 1
    assert len(_events(api, auth, ticket_id, "clickup.task.priority_changed")) == 1


def test_health_reenables_a_suspended_webhook_and_recreates_a_missing_one(
    api, auth, clickup, workspace, stack, org_id
) -> None:
    _ready(api, auth, workspace)
    hook = _hook(clickup, workspace)
    clickup.put(f"/_emulator/webhooks/{hook['id']}/health", json={"status": "suspended", "fail_count": 100})
    _job(stack, "health", org_id)
    wait_for(lambda: _hook(clickup, workspace)["health"]["status"] == "active", timeout_s=30)
    assert _hook(clickup, workspace)["id"] == hook["id"]
    # deleted at ClickUp (by someone, or after a 410): re-created with a new secret the bridge stores
    deleted = clickup.delete(f"/api/v2/webhook/{hook['id']}", headers={"Authorization": workspace["token"]})
    assert deleted.status_code == 200, deleted.text
    _job(stack, "health", org_id)
    fresh = wait_for(
        lambda: next(
            (
                h
                for h in clickup.get("/_emulator/webhooks").json()["webhooks"]
                if str(h["team_id"]) == str(workspace["team_id"]) and h["id"] != hook["id"]
            ),
            None,
        ),
        timeout_s=30,
    )
    assert fresh["secret"] != hook["secret"]
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id)["task_id"]
    _act(clickup, workspace, action="set_status", task_id=task_id, status="doing")  # signed with the new secret
    wait_for(lambda: api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["status"] == "doing")


# -- push to the portal ------------------------------------------------------------------------------------
def test_portal_events_are_pushed_signed_and_retried_while_the_portal_is_down(
    api, auth, clickup, workspace, stack, org_id
) -> None:
    _ready(api, auth, workspace)
    rotated = api.post("/api/v1/clickup/portal-webhook/secret", headers=auth())
    assert rotated.status_code == 200, rotated.text
    secret = rotated.json()["secret"]
    assert api.post("/api/v1/clickup/portal-webhook/secret", headers=auth(role="member")).status_code == 403
    current = api.get("/api/v1/clickup/settings", headers=auth()).json()
    bad = api.put(
        "/api/v1/clickup/settings", headers=auth(), json={**current, "portal_webhook_url": "http://x.example"}
    )
    assert bad.status_code == 422
    receiver = f"{stack.api_url}/_local/portal/events"
    saved = api.put("/api/v1/clickup/settings", headers=auth(), json={**current, "portal_webhook_url": receiver})
    assert saved.status_code == 200, saved.text
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id)["task_id"]
    api.put("/_local/portal/fail", params={"count": 1})  # the portal is down for the next delivery
    _act(clickup, workspace, action="set_status", task_id=task_id, status="done")

    def pushed() -> list[dict]:
        items = api.get("/_local/portal/events", params={"org": org_id}).json()["received"]
        return [i for i in items if json.loads(i["body"])["type"] == "clickup.task.status_changed"]

    received = wait_for(pushed, timeout_s=40)
    assert len(received) == 1
    item = received[0]
    timestamp, digest = (part.split("=", 1)[1] for part in item["signature"].split(","))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + item["body"].encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)
    event = json.loads(item["body"])
    assert event["id"] == item["event_id"] and event["ticket_id"] == ticket_id and event["data"]["status"] == "done"
    assert event["id"] in {e["id"] for e in _events(api, auth, ticket_id)}  # the same event as in the feed


def _pushed_to_portal(api, auth, stack, org_id: str) -> Callable[[str, str], list[dict]]:
    """Point the organisation's portal webhook at the local receiver; what it received, by ticket and type."""
    assert api.post("/api/v1/clickup/portal-webhook/secret", headers=auth()).status_code == 200
    current = api.get("/api/v1/clickup/settings", headers=auth()).json()
    receiver = f"{stack.api_url}/_local/portal/events"
    saved = api.put("/api/v1/clickup/settings", headers=auth(), json={**current, "portal_webhook_url": receiver})
    assert saved.status_code == 200, saved.text

    def received(ticket_id: str, kind: str) -> list[dict]:
        items = api.get("/_local/portal/events", params={"org": org_id}).json()["received"]
        bodies = [json.loads(i["body"]) for i in items]
        return [e for e in bodies if e.get("ticket_id") == ticket_id and e["type"] == kind]

    return received


@pytest.mark.parametrize("publisher_fate", ["dies", "stalls"])
def test_a_change_recorded_before_the_bus_is_pushed_once(
    api, auth, clickup, workspace, stack, org_id, patch_function, publisher_fate
) -> None:
    """The processor records the change's event in the feed, then dies (its message comes back) or stalls before
    the bus (ClickUp's second delivery of the change, `taskUpdated`, meanwhile finds it in the link's outbox)."""
    _ready(api, auth, workspace)
    pushed = _pushed_to_portal(api, auth, stack, org_id)
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id)["task_id"]
    fates: list[str] = []

    def record_then_falter(record):
        def faltering(event, *args, **kwargs):
            recorded = record(event, *args, **kwargs)
            if recorded and event.get("ticket_id") == ticket_id and event["type"].endswith("status_changed"):
                fates.append(event["id"])
                if publisher_fate == "dies":
                    raise SystemExit("the processor died between the feed and the bus")
                time.sleep(1.5)
            return recorded

        return faltering

    patch_function("*", "bridge.events.publisher", "feed.append", record_then_falter)
    _act(clickup, workspace, action="set_status", task_id=task_id, status="done")
    received = wait_for(lambda: pushed(ticket_id, "clickup.task.status_changed"), timeout_s=60)
    time.sleep(2.0)
    assert fates and [e["id"] for e in pushed(ticket_id, "clickup.task.status_changed")] == fates
    assert received[0]["data"]["status"] == "done"
    assert [e["id"] for e in _events(api, auth, ticket_id, "clickup.task.status_changed")] == fates


def test_a_sweep_out_of_time_continues_from_its_checkpoint(
    api, auth, clickup, workspace, org_id, delivery, monkeypatch
):
    """Found by the convergence run: a sweep of hundreds of tasks ran out of time inside a page and failed."""
    from bridge.webhooks import reconcile

    _ready(api, auth, workspace)
    tickets = [str(uuid.uuid4()) for _ in range(3)]
    tasks = [_created_task(api, auth, clickup, t)["task_id"] for t in tickets]
    delivery(drop_ratio=1.0)
    for task_id in tasks:
        _act(clickup, workspace, action="set_status", task_id=task_id, status="doing")
    applied: list[str] = []
    original = reconcile.apply_changes

    def counting(org, task_id, changes, **kwargs):
        applied.append(task_id)
        return original(org, task_id, changes, **kwargs)

    monkeypatch.setattr(reconcile, "apply_changes", counting)
    with pytest.raises(reconcile.Interrupted):
        reconcile.sweep(org_id, lambda: 1.0 if len(applied) >= 1 else 100.0)  # time runs out after one task
    assert len(set(applied)) == 1
    reconcile.sweep(org_id, lambda: 100.0)  # the continuation, from the checkpoint
    for ticket_id in tickets:
        assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["status"] == "doing"
        wait_for(lambda t=ticket_id: len(_events(api, auth, t, "clickup.task.status_changed")) == 1)


def test_a_portal_configured_after_the_delivery_worker_saw_none_gets_the_next_events(
    api, auth, clickup, workspace, stack, org_id
) -> None:
    """Found by giving each function its own module state: the delivery worker had cached "no secret" (60 s) and
    "no URL" (3 s) for the organisation before an admin set them through the oauth function, and dropped the
    events in between. An answer that drops an event is read afresh."""
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id)["task_id"]
    delivery = stack.functions["portal_delivery"]
    # the worker sees the organisation's events while it has no portal (its created event, at least)
    wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.created"))
    before = delivery.invocations
    _act(clickup, workspace, action="set_priority", task_id=task_id, priority=2)
    wait_for(lambda: delivery.invocations > before and _events(api, auth, ticket_id, "clickup.task.priority_changed"))
    time.sleep(1.0)  # delivered (to nobody): "no_url" / "no_secret" now sit in the worker's caches
    secret = api.post("/api/v1/clickup/portal-webhook/secret", headers=auth()).json()["secret"]
    current = api.get("/api/v1/clickup/settings", headers=auth()).json()
    receiver = f"{stack.api_url}/_local/portal/events"
    assert api.put(
        "/api/v1/clickup/settings", headers=auth(), json={**current, "portal_webhook_url": receiver}
    ).is_success
    _act(clickup, workspace, action="set_status", task_id=task_id, status="done")

    def pushed() -> list[dict]:
        items = api.get("/_local/portal/events", params={"org": org_id}).json()["received"]
        return [i for i in items if json.loads(i["body"])["type"] == "clickup.task.status_changed"]

    (item,) = wait_for(pushed, timeout_s=20)  # well inside the 60 s the cached "no secret" would have lasted
    timestamp, digest = (part.split("=", 1)[1] for part in item["signature"].split(","))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + item["body"].encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)
