"""The ticket → task pipeline over the local stack: routes, the worker on its FIFO queue, list resolution,
mappings, changes in order, comments, failures (no list, ClickUp refusals, lost responses, 5xx, a worker dying
after ClickUp answered, revocation) and isolation between organisations. Exactly one task per ticket throughout."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from bridge.clickup.errors import RateLimited
from bridge.repositories import audit
from tests import flows
from tests.conftest import wait_for


@pytest.fixture
def faults(clickup: httpx.Client):
    yield lambda rule: clickup.post("/_emulator/faults", json=rule).raise_for_status()
    clickup.delete("/_emulator/faults")


def _space(workspace: dict) -> dict:
    return next(s for s in workspace["spaces"] if s["name"] == "Support")


def _inbox(workspace: dict) -> dict:
    return _space(workspace)["lists"][0]


def _l1(workspace: dict) -> dict:
    return _space(workspace)["folders"][0]["lists"][0]


def _ready(api, auth, workspace, customer: str = "cust-1", list_id: str | None = "inbox") -> None:
    """Connected with the workspace's token, synced, and the customer assigned to Support (and a list)."""
    flows.connect_with_token(api, auth(), workspace["token"])
    if list_id is not None:
        body = {"space_id": _space(workspace)["id"]}
        if list_id:
            body["list_id"] = _inbox(workspace)["id"] if list_id == "inbox" else list_id
        assert api.put(f"/api/v1/customers/{customer}/clickup-space", headers=auth(), json=body).status_code == 200


def _ticket(**overrides) -> dict:
    return {
        "title": "Printer on fire",
        "description": "It is *really* on fire.",
        "priority": "high",
        "customer_id": "cust-1",
        "ticket_url": "https://portal.example.com/t/1",
        "requester": {"name": "Ann Example", "email": "ann@example.com"},
        **overrides,
    }


def _state(api, auth, ticket_id: str, wanted: str, timeout_s: float = 30) -> dict:
    def check():
        body = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
        return body if body.get("state") == wanted else None

    return wait_for(check, timeout_s=timeout_s)


def _tasks(clickup: httpx.Client, ticket_id: str) -> list[dict]:
    tasks = clickup.get("/_emulator/tasks").json()["tasks"]
    return [t for t in tasks if t["name"].startswith(f"[TICKET-{ticket_id}]")]


def _applied(api, auth, ticket_id: str) -> dict:
    def check():
        body = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
        return body if body.get("state") == "created" and body["pending_changes"] == 0 else None

    return wait_for(check, timeout_s=30)


def _feed(stack, org_id: str) -> str:
    items = stack.aws.client("dynamodb").query(
        TableName=stack.environment()["TABLE_NAME"],
        KeyConditionExpression="pk = :p AND begins_with(sk, :e)",
        ExpressionAttributeValues={":p": {"S": f"ORG#{org_id}"}, ":e": {"S": "EVENT#"}},
    )["Items"]
    return json.dumps(items)


def test_a_ticket_becomes_one_task_and_a_duplicate_post_changes_nothing(api, auth, workspace, clickup, org_id) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    first = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket(tags=["vip"]))
    assert first.status_code == 202 and first.json()["state"] == "queued"
    again = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    assert again.status_code == 200 and again.json()["state"] in ("queued", "creating", "created")
    link = _state(api, auth, ticket_id, "created")
    assert link["list_id"] == _inbox(workspace)["id"] and link["priority"] == "high"
    tasks = _tasks(clickup, ticket_id)
    assert len(tasks) == 1
    task = tasks[0]
    assert task["name"] == f"[TICKET-{ticket_id}] Printer on fire"
    assert task["id"] == link["task_id"] and task["url"] == link["task_url"]
    assert task["priority"]["id"] == "2" and task["list"]["id"] == _inbox(workspace)["id"]
    assert [t["name"] for t in task["tags"]] == ["vip"]
    description = task["markdown_description"]
    assert "It is *really* on fire." in description and "https://portal.example.com/t/1" in description
    assert "cust-1" in description and "Ann Example <ann@example.com>" in description and "high" in description
    third = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    assert third.status_code == 200 and third.json()["task_id"] == task["id"]
    actions = [row["action"] for row in audit.trail(org_id, ticket_id)]
    assert actions[0] == "queued" and "created" in actions


@pytest.mark.parametrize(("zone", "day"), [("America/Los_Angeles", "2026-12-01"), ("Pacific/Auckland", "2026-12-01")])
def test_a_date_only_due_date_lands_on_that_day_in_the_workspace_zone(api, auth, workspace, clickup, zone, day) -> None:
    _ready(api, auth, workspace)
    settings = api.get("/api/v1/clickup/settings", headers=auth()).json()
    assert api.put("/api/v1/clickup/settings", headers=auth(), json={**settings, "time_zone": zone}).status_code == 200
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket(due_date=day))
    _state(api, auth, ticket_id, "created")
    task = _tasks(clickup, ticket_id)[0]
    landed = datetime.fromtimestamp(int(task["due_date"]) / 1000, UTC).astimezone(ZoneInfo(zone))
    assert landed.date().isoformat() == day


@pytest.mark.usefixtures("archived_reading")  # the list and its statuses come from the sync
def test_no_list_for_the_customer_fails_with_a_code_and_an_event_then_retry_creates(
    api, auth, workspace, clickup, org_id, stack
) -> None:
    _ready(api, auth, workspace, customer="cust-9", list_id=None)
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket(customer_id="cust-9"))
    failed = _state(api, auth, ticket_id, "failed")
    assert failed["error"]["code"] == "no_list_for_customer"
    wait_for(lambda: "clickup.task.failed" in _feed(stack, org_id))  # published right after the state is saved
    api.put("/api/v1/customers/cust-9/clickup-space", headers=auth(), json={"space_id": _space(workspace)["id"]})
    retried = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task/retry", headers=auth())
    assert retried.status_code == 202 and retried.json()["state"] == "queued"
    created = _state(api, auth, ticket_id, "created")
    assert created["list_id"] == _inbox(workspace)["id"]  # the space's first (folderless) list
    assert len(_tasks(clickup, ticket_id)) == 1
    assert api.post(f"/api/v1/tickets/{ticket_id}/clickup-task/retry", headers=auth()).json()["error"]["code"] == (
        "not_failed"
    )


def test_custom_fields_go_through_the_mapping_and_drop_downs_take_option_ids(api, auth, workspace, clickup) -> None:
    l1 = _l1(workspace)
    _ready(api, auth, workspace, list_id=l1["id"])
    severity = l1["fields"][0]
    settings = api.get("/api/v1/clickup/settings", headers=auth()).json()
    mapped = {**settings, "field_mapping": {"severity": severity["id"]}}
    assert api.put("/api/v1/clickup/settings", headers=auth(), json=mapped).status_code == 200
    unmapped = api.post(
        f"/api/v1/tickets/{uuid.uuid4()}/clickup-task", headers=auth(), json=_ticket(fields={"colour": "red"})
    )
    assert unmapped.status_code == 422 and unmapped.json()["error"]["code"] == "field_not_mapped"
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket(fields={"severity": "S2"}))
    _state(api, auth, ticket_id, "created")

    def field_value():
        task = _tasks(clickup, ticket_id)[0]
        return next((f.get("value") for f in task["custom_fields"] if f["id"] == severity["id"]), None)

    assert wait_for(field_value) == severity["options"]["S2"]


@pytest.mark.usefixtures("archived_reading")  # the list and its statuses come from the sync
def test_status_mapping_is_checked_on_save_and_changes_apply_in_order(api, auth, workspace, clickup, org_id) -> None:
    _ready(api, auth, workspace)
    inbox = _inbox(workspace)["id"]
    settings = api.get("/api/v1/clickup/settings", headers=auth()).json()
    bad = api.put(
        "/api/v1/clickup/settings", headers=auth(), json={**settings, "status_mapping": {inbox: {"solved": "closed!"}}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "status_not_in_list"
    good = {**settings, "status_mapping": {inbox: {"solved": "done", "open": "new", "working": "doing"}}}
    assert api.put("/api/v1/clickup/settings", headers=auth(), json=good).status_code == 200
    ticket_id = str(uuid.uuid4())
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    api.post(url, headers=auth(), json=_ticket())
    # Changes accepted before the task exists are applied after it, in order
    assert api.patch(url, headers=auth(), json={"priority": "low"}).status_code == 202
    assert api.patch(url, headers=auth(), json={"status": "working"}).status_code == 202
    assert api.patch(url, headers=auth(), json={"status": "solved", "due_date": "2026-12-24"}).status_code == 202
    assert api.post(f"{url}/comments", headers=auth(), json={"text": "We are on it."}).status_code == 202
    link = _applied(api, auth, ticket_id)
    actions = [r["action"] for r in audit.trail(org_id, ticket_id)]
    assert actions[-4:] == ["updated", "updated", "updated", "commented"]
    assert link["status"] == "done" and link["priority"] == "low" and link["due_date"] == "2026-12-24"
    task = _tasks(clickup, ticket_id)[0]
    assert task["status"]["status"] == "done" and task["priority"]["id"] == "4"
    comments = clickup.get(f"/api/v2/task/{task['id']}/comment", headers={"Authorization": workspace["token"]}).json()[
        "comments"
    ]
    assert [c["comment_text"] for c in comments] == ["We are on it."]
    unmapped = api.patch(url, headers=auth(), json={"status": "nonsense"})
    assert unmapped.status_code == 422 and unmapped.json()["error"]["code"] == "status_not_mapped"
    empty = api.patch(url, headers=auth(), json={})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_change"


def test_a_lost_response_after_clickup_created_the_task_is_adopted_not_duplicated(
    api, auth, workspace, clickup, faults
) -> None:
    _ready(api, auth, workspace)
    faults({"action": "lose_response", "method": "POST", "path": r"/list/\d+/task$", "count": 1})
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    link = _state(api, auth, ticket_id, "created")
    tasks = _tasks(clickup, ticket_id)
    assert len(tasks) == 1 and tasks[0]["id"] == link["task_id"]


def test_clickup_5xx_is_retried_until_created_once(api, auth, workspace, clickup, faults) -> None:
    _ready(api, auth, workspace)
    faults({"action": "status", "status": 503, "method": "POST", "path": r"/list/\d+/task$", "count": 4})
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    _state(api, auth, ticket_id, "created", timeout_s=60)
    assert len(_tasks(clickup, ticket_id)) == 1


def test_a_permanent_refusal_fails_with_clickups_code(api, auth, workspace, clickup, faults, org_id, stack) -> None:
    _ready(api, auth, workspace)
    faults(
        {
            "action": "status",
            "status": 400,
            "body": {"err": "Task name invalid", "ECODE": "INPUT_005"},
            "method": "POST",
            "path": r"/list/\d+/task$",
            "count": 1,
        }
    )
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    failed = _state(api, auth, ticket_id, "failed")
    assert failed["error"]["code"] == "INPUT_005" and _tasks(clickup, ticket_id) == []


def test_a_worker_dying_after_clickup_answered_leaves_one_task(api, auth, workspace, clickup, patch_function) -> None:
    deaths = []

    def die_once(adopted):
        def dying(link, task, how):
            if not deaths:
                deaths.append(task.id)
                raise SystemExit("worker died between ClickUp's answer and its write")
            return adopted(link, task, how)

        return dying

    patch_function("task_create", "bridge.tasks.worker", "_adopted", die_once)
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    # the dead attempt's lease runs to its invocation's deadline (task_create's 30 s timeout, not time-scaled):
    # about 40 s on an idle machine, so the wait leaves room for a loaded one
    link = _state(api, auth, ticket_id, "created", timeout_s=120)
    assert deaths == [link["task_id"]]
    assert len(_tasks(clickup, ticket_id)) == 1


@pytest.mark.parametrize("dies_at", ["ops.done", "links.save"])
def test_a_worker_dying_around_an_applied_change_leaves_nothing_pending(
    api, auth, workspace, clickup, patch_function, dies_at
) -> None:
    """Found by the fault runs: a worker that died after removing an applied change but before counting it
    left the change counted as pending for ever (`pending_changes` 1, though ClickUp had it)."""
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    _state(api, auth, ticket_id, "created")
    module, name = (
        ("bridge.tasks.worker", "ticket_ops.done") if dies_at == "ops.done" else ("bridge.tasks.worker", "_save")
    )
    deaths: list[str] = []

    def die_once_after(original):
        def dying(*args, **kwargs):
            result = original(*args, **kwargs)
            applied = name.endswith("done") or "ops_applied" in kwargs
            if applied and not deaths and (args[1] if name.endswith("done") else args[0]["ticket_id"]) == ticket_id:
                deaths.append(dies_at)
                raise SystemExit(f"worker died right after {dies_at}")
            return result

        return dying

    patch_function("task_create", module, name, die_once_after)
    api.patch(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json={"priority": "low"})
    # The change is counted before its row goes: wait for the death itself, then for the redelivery to settle
    wait_for(lambda: deaths == [dies_at], timeout_s=30)
    settled = _applied(api, auth, ticket_id)
    assert settled["priority"] == "low" and settled["pending_changes"] == 0
    assert _tasks(clickup, ticket_id)[0]["priority"]["priority"] == "low"


def test_revoked_token_keeps_the_ticket_queued_until_reconnect(api, auth, workspace, clickup) -> None:
    _ready(api, auth, workspace)
    clickup.post(f"/_emulator/tokens/{workspace['token']}/revoke")
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    wait_for(lambda: api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "needs_reauth")
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["state"] == "queued"
    fresh = clickup.post(f"/_emulator/users/{workspace['user']['id']}/tokens").json()["token"]
    reconnect = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": fresh})
    assert reconnect.status_code == 200
    _state(api, auth, ticket_id, "created", timeout_s=60)
    assert len(_tasks(clickup, ticket_id)) == 1


def test_another_organisation_can_neither_read_nor_change_the_task(api, auth, workspace) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    other = auth(org=f"org-{uuid.uuid4().hex[:8]}")
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.get(url, headers=other).status_code == 404
    assert api.patch(url, headers=other, json={"priority": "low"}).status_code in (404, 409)
    assert api.post(f"{url}/comments", headers=other, json={"text": "x"}).status_code in (404, 409)
    assert api.post(f"{url}/retry", headers=other).status_code in (404, 409)
    assert api.get(url, headers=auth()).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/tickets/not-a-uuid/clickup-task", _ticket(), 422),
        (f"/api/v1/tickets/{uuid.uuid4()}/clickup-task", _ticket(priority="blocker"), 422),
        (f"/api/v1/tickets/{uuid.uuid4()}/clickup-task", _ticket(due_date="2026-12-01T10:00:00"), 422),
        (f"/api/v1/tickets/{uuid.uuid4()}/clickup-task", {"title": "no customer", "priority": "low"}, 422),
    ],
)
def test_bad_tickets_get_clear_json_errors(api, auth, workspace, path, body, status) -> None:
    _ready(api, auth, workspace)
    answer = api.post(path, headers=auth(), json=body)
    assert answer.status_code == status and answer.json()["error"]["code"]


def test_a_ticket_without_a_task_is_404(api, auth, workspace) -> None:
    _ready(api, auth, workspace)
    answer = api.get(f"/api/v1/tickets/{uuid.uuid4()}/clickup-task", headers=auth())
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "ticket_task_not_found"


def test_a_spent_budget_hands_the_record_back_and_nothing_is_lost(
    api, auth, workspace, clickup, org_id, monkeypatch
) -> None:
    from bridge.ratelimit.limiter import OrgRateLimiter

    monkeypatch.setenv("CLICKUP_RATE_WINDOW_S", "6")  # this organisation's windows last 6 s
    _ready(api, auth, workspace)
    from bridge.repositories.table import main_table

    state = main_table().get_item(Key={"pk": f"RATE#{org_id}", "sk": "STATE"}, ConsistentRead=True)["Item"]
    time.sleep(max(0.0, float(state["window_end"]) - time.time()) + 0.1)  # the connect's window is over
    spender = OrgRateLimiter(org_id)  # opens a fresh 6 s window and spends it
    with pytest.raises(RateLimited):
        for _ in range(1000):
            spender.before_request()  # the organisation's budget for this window is gone
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    time.sleep(0.5)
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["state"] == "queued"
    assert _tasks(clickup, ticket_id) == []
    _state(api, auth, ticket_id, "created", timeout_s=30)  # visible again at the reset, then created once
    assert len(_tasks(clickup, ticket_id)) == 1
