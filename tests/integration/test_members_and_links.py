"""Issue 19, parts 2 and 3 over the local stack: the workspace members for assignee pickers, and linking a ticket
to a ClickUp task that already exists (and unlinking it)."""

from __future__ import annotations

import time
import uuid

from bridge.repositories import audit, ticket_links
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

    def joined_after_a_sync():
        # a sync requested while one that read GET /team before the join still runs is coalesced with it: ask again
        assert api.post("/api/v1/clickup/sync", headers=auth()).status_code == 202
        rows = api.get("/api/v1/clickup/members", headers=auth()).json()["members"]
        return next((m for m in rows if m["id"] == colleague["id"]), None)

    joined = wait_for(joined_after_a_sync, timeout_s=30, interval_s=0.5)
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


# -- part 3: linking an existing task ----------------------------------------------------------------------------
def _clickup_task(clickup, workspace, name: str = "Existing", **fields) -> dict:
    answer = clickup.post(
        f"/api/v2/list/{_inbox(workspace)['id']}/task",
        headers={"Authorization": workspace["token"]},
        json={"name": name, **fields},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _link(api, auth, ticket_id: str, **body):
    return api.put(f"/api/v1/tickets/{ticket_id}/clickup-task/link", headers=auth(), json=body)


def _feed(api, auth, ticket_id: str) -> list[dict]:
    events, cursor = [], None
    while True:
        params = {"limit": 500, **({"after": cursor} if cursor else {})}
        body = api.get("/api/v1/clickup/events", headers=auth(), params=params).json()
        if not body["events"]:
            return [e for e in events if e.get("ticket_id") == ticket_id]
        events += body["events"]
        cursor = body["cursor"]


def test_a_linked_task_reads_its_fields_from_clickup_and_syncs_both_ways(api, auth, clickup, workspace, org_id) -> None:
    _ready(api, auth, workspace)
    me = workspace["user"]["id"]
    task = _clickup_task(clickup, workspace, status="doing", priority=2, assignees=[me])
    ticket_id = str(uuid.uuid4())
    answer = _link(api, auth, ticket_id, task_id=task["id"])
    assert answer.status_code == 201, answer.text
    link = answer.json()
    assert (link["state"], link["task_id"], link["task_url"]) == ("created", task["id"], task["url"])
    assert (link["list_id"], link["status"], link["priority"], link["assignees"]) == (
        _inbox(workspace)["id"],
        "doing",
        "high",
        [me],
    )
    assert ticket_links.find_by_task(task["id"]) == {**ticket_links.find_by_task(task["id"]), "ticket_id": ticket_id}
    assert [r["action"] for r in audit.trail(org_id, ticket_id)] == ["linked"]
    # The same PUT again: the same link (200), nothing new
    again = _link(api, auth, ticket_id, task_id=task["id"])
    assert (again.status_code, again.json()["task_id"]) == (200, task["id"])
    # ClickUp → portal: a ClickUp user changes the status
    clickup.post(
        "/_emulator/act", json={"user_id": me, "action": "set_status", "task_id": task["id"], "status": "done"}
    )
    wait_for(lambda: api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["status"] == "done")
    assert wait_for(lambda: [e for e in _feed(api, auth, ticket_id) if e["type"] == "clickup.task.status_changed"])
    # portal → ClickUp: PATCH and a comment
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.patch(url, headers=auth(), json={"priority": "low", "assignees": []}).status_code == 202
    assert api.post(f"{url}/comments", headers=auth(), json={"text": "from the portal"}).status_code == 202

    def applied():
        seen = clickup.get(f"/api/v2/task/{task['id']}", headers={"Authorization": workspace["token"]}).json()
        return seen if seen["priority"] and seen["priority"]["priority"] == "low" and not seen["assignees"] else None

    assert wait_for(applied, timeout_s=30)

    def commented():
        seen = clickup.get(f"/api/v2/task/{task['id']}/comment", headers={"Authorization": workspace["token"]})
        return any("from the portal" in c["comment_text"] for c in seen.json()["comments"])

    assert wait_for(commented, timeout_s=30)


def test_link_by_url_plain_and_custom_task_id(api, auth, clickup, workspace, emulator) -> None:
    _ready(api, auth, workspace)
    plain_task = _clickup_task(clickup, workspace, "By URL")
    for i, url in enumerate((plain_task["url"], f"https://app.clickup.com/t/{plain_task['id']}")):
        ticket_id = str(uuid.uuid4())
        answer = _link(api, auth, ticket_id, task_url=url)
        if i == 0:
            assert answer.status_code == 201, answer.text
            assert answer.json()["task_id"] == plain_task["id"]
            assert api.delete(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).status_code == 204
        else:  # relinked to another ticket after the unlink
            assert (answer.status_code, answer.json()["task_id"]) == (201, plain_task["id"]), answer.text
    custom = _clickup_task(clickup, workspace, "Custom")
    emulator.backend.tasks[custom["id"]].custom_id = "SUP-42"
    ticket_id = str(uuid.uuid4())
    answer = _link(api, auth, ticket_id, task_url=f"https://app.clickup.com/t/{workspace['team_id']}/SUP-42")
    assert (answer.status_code, answer.json()["task_id"]) == (201, custom["id"]), answer.text
    # A custom id in a workspace not authorized, or unknown in this one: not found
    for url in ("https://app.clickup.com/t/99999999/SUP-42", f"https://app.clickup.com/t/{workspace['team_id']}/NO-1"):
        refused = _link(api, auth, str(uuid.uuid4()), task_url=url)
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "task_not_found"), url


def test_bad_link_bodies_and_urls_are_refused_with_a_code(api, auth, workspace) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    for body in ({}, {"task_id": "a", "task_url": "https://app.clickup.com/t/a"}, {"task_id": "../x"}, {"x": 1}):
        answer = _link(api, auth, ticket_id, **body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["code"], answer.text
    for url in (
        "https://evil.example/t/abc",
        "ftp://app.clickup.com/t/abc",
        "https://app.clickup.com/x/abc",
        "https://app.clickup.com/t/1/2/3",
        "not a url",
    ):
        answer = _link(api, auth, ticket_id, task_url=url)
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "task_url_invalid"), url
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).status_code == 404


def test_another_organisations_task_is_refused_exactly_like_an_unknown_one(
    api, auth, stack, clickup, workspace
) -> None:
    _ready(api, auth, workspace)
    other = flows.connected_org(stack, api, clickup)
    other_link = wait_for(
        lambda: (lambda b: b if b.get("state") == "created" else None)(
            api.get(f"/api/v1/tickets/{other['ticket']}/clickup-task", headers=other["auth"]()).json()
        ),
        timeout_s=30,
    )
    theirs = _link(api, auth, str(uuid.uuid4()), task_id=other_link["task_id"])
    unknown = _link(api, auth, str(uuid.uuid4()), task_id="zz9unknown")
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "task_not_found"), theirs.text
    assert theirs.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert other_link["task_id"] not in theirs.text and "F " not in theirs.text
    # by URL too, and the other organisation's link is untouched
    by_url = _link(api, auth, str(uuid.uuid4()), task_url=f"https://app.clickup.com/t/{other_link['task_id']}")
    assert (by_url.status_code, by_url.json()["error"]["code"]) == (404, "task_not_found")
    assert ticket_links.find_by_task(other_link["task_id"])["ticket_id"] == other["ticket"]


def test_a_task_already_linked_and_a_ticket_already_linked_are_409(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    first, second = _clickup_task(clickup, workspace, "One"), _clickup_task(clickup, workspace, "Two")
    ticket_a, ticket_b = str(uuid.uuid4()), str(uuid.uuid4())
    assert _link(api, auth, ticket_a, task_id=first["id"]).status_code == 201
    taken = _link(api, auth, ticket_b, task_id=first["id"])
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "task_already_linked"), taken.text
    busy = _link(api, auth, ticket_a, task_id=second["id"])
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "ticket_already_linked"), busy.text
    # A ticket whose task the bridge created is linked too
    created = api.post(
        f"/api/v1/tickets/{ticket_b}/clickup-task",
        headers=auth(),
        json={"title": "t", "priority": "normal", "customer_id": "cust-1"},
    )
    assert created.status_code == 202
    busy = _link(api, auth, ticket_b, task_id=second["id"])
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "ticket_already_linked"), busy.text
    assert ticket_links.find_by_task(second["id"]) is None


def test_two_tickets_racing_for_one_task_cannot_both_win(api, auth, clickup, workspace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _ready(api, auth, workspace)
    task = _clickup_task(clickup, workspace, "Contested")
    tickets = [str(uuid.uuid4()) for _ in range(4)]
    headers = auth()
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda t: api.put(
                    f"/api/v1/tickets/{t}/clickup-task/link", headers=headers, json={"task_id": task["id"]}
                ),
                tickets,
            )
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409], [a.text for a in answers]
    winner = tickets[[a.status_code for a in answers].index(201)]
    assert ticket_links.find_by_task(task["id"])["ticket_id"] == winner
    linked = [t for t in tickets if api.get(f"/api/v1/tickets/{t}/clickup-task", headers=headers).status_code == 200]
    assert linked == [winner]


def test_unlink_stops_the_events_and_removes_the_lock_and_is_idempotent(api, auth, clickup, workspace, org_id) -> None:
    _ready(api, auth, workspace)
    me = workspace["user"]["id"]
    task = _clickup_task(clickup, workspace, "To unlink")
    ticket_id = str(uuid.uuid4())
    assert _link(api, auth, ticket_id, task_id=task["id"]).status_code == 201
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    for _ in range(2):
        assert api.delete(url, headers=auth()).status_code == 204
    assert api.get(url, headers=auth()).status_code == 404
    assert ticket_links.find_by_task(task["id"]) is None
    assert [r["action"] for r in audit.trail(org_id, ticket_id)] == ["linked", "unlinked"]
    # ClickUp changes the task: nothing reaches the ticket or the feed; the task is still in ClickUp
    clickup.post(
        "/_emulator/act", json={"user_id": me, "action": "set_status", "task_id": task["id"], "status": "done"}
    )
    time.sleep(2)
    # only the link's own events: nothing from ClickUp after the unlink
    assert [e["type"] for e in _feed(api, auth, ticket_id)] == ["clickup.task.linked", "clickup.task.unlinked"]
    assert api.get(url, headers=auth()).status_code == 404
    still = clickup.get(f"/api/v2/task/{task['id']}", headers={"Authorization": workspace["token"]})
    assert (still.status_code, still.json()["status"]["status"]) == (200, "done")
    # Relinked (to the same ticket): it reads the task as ClickUp has it now
    again = _link(api, auth, ticket_id, task_id=task["id"])
    assert (again.status_code, again.json()["status"]) == (201, "done"), again.text
    assert [r["action"] for r in audit.trail(org_id, ticket_id)] == ["linked", "unlinked", "linked"]


def test_the_emulator_reads_a_task_by_custom_id_only_with_its_workspace(clickup, workspace, emulator) -> None:
    """Get Task: `custom_task_ids=true` needs `team_id` (ClickUp's Get Task doc), and the task must be in it."""
    task = _clickup_task(clickup, workspace, "Custom read")
    emulator.backend.tasks[task["id"]].custom_id = "EMU-7"
    headers = {"Authorization": workspace["token"]}
    found = clickup.get(
        "/api/v2/task/EMU-7", headers=headers, params={"custom_task_ids": "true", "team_id": workspace["team_id"]}
    )
    assert (found.status_code, found.json()["id"], found.json()["custom_id"]) == (200, task["id"], "EMU-7")
    assert clickup.get("/api/v2/task/EMU-7", headers=headers, params={"custom_task_ids": "true"}).status_code == 400
    elsewhere = clickup.get("/api/v2/task/EMU-7", headers=headers, params={"custom_task_ids": "true", "team_id": "1"})
    assert elsewhere.status_code in (401, 404), elsewhere.text
    assert clickup.get("/api/v2/task/EMU-7", headers=headers).status_code in (401, 404)  # not a task id


# -- link and unlink are portal events (feed and push) -----------------------------------------------------------
def _pushed(api, org_id: str, ticket_id: str) -> list[dict]:
    import json

    received = api.get("/_local/portal/events", params={"org": org_id}).json()["received"]
    return [json.loads(r["body"]) for r in received if json.loads(r["body"]).get("ticket_id") == ticket_id]


def _kinds(events: list[dict]) -> list[str]:
    return [e["type"] for e in events if e["type"] in ("clickup.task.linked", "clickup.task.unlinked")]


def test_link_and_unlink_are_published_once_each_to_the_feed_and_the_portal(
    stack, api, auth, clickup, workspace, org_id
) -> None:
    _ready(api, auth, workspace)
    assert api.post("/api/v1/clickup/portal-webhook/secret", headers=auth()).status_code == 200  # pushes are signed
    current = api.get("/api/v1/clickup/settings", headers=auth()).json()
    receiver = f"{stack.api_url}/_local/portal/events"
    assert api.put("/api/v1/clickup/settings", headers=auth(), json={**current, "portal_webhook_url": receiver})
    task = _clickup_task(clickup, workspace, "Announced", status="doing")
    ticket_id = str(uuid.uuid4())
    assert _link(api, auth, ticket_id, task_id=task["id"]).status_code == 201
    assert _link(api, auth, ticket_id, task_id=task["id"]).status_code == 200  # the same PUT again: no new event
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    for _ in range(2):  # the second DELETE finds nothing to unlink: no new event
        assert api.delete(url, headers=auth(), params={}).status_code == 204
    feed = _feed(api, auth, ticket_id)
    assert _kinds(feed) == ["clickup.task.linked", "clickup.task.unlinked"]
    linked, unlinked = (e for e in feed if e["type"] in ("clickup.task.linked", "clickup.task.unlinked"))
    assert (linked["org_id"], linked["ticket_id"], linked["task_id"]) == (org_id, ticket_id, task["id"])
    assert linked["data"] == {
        "task_id": task["id"],
        "task_url": task["url"],
        "list_id": _inbox(workspace)["id"],
        "workspace_id": workspace["team_id"],
        "status": "doing",
        "by": "user:user-1",
    }
    assert (unlinked["ticket_id"], unlinked["task_id"]) == (ticket_id, task["id"])
    assert unlinked["data"] == {"task_id": task["id"], "state": "created", "by": "user:user-1"}
    # The portal receives the same events (same ids) through the bus and its webhook
    pushed = wait_for(lambda: (p := _pushed(api, org_id, ticket_id)) and len(_kinds(p)) == 2 and p, timeout_s=30)
    assert [(e["type"], e["id"]) for e in pushed if e["type"] in ("clickup.task.linked", "clickup.task.unlinked")] == [
        (linked["type"], linked["id"]),
        (unlinked["type"], unlinked["id"]),
    ]
    # Linked again: a new link, a new event
    assert _link(api, auth, ticket_id, task_id=task["id"]).status_code == 201
    again = ["clickup.task.linked", "clickup.task.unlinked", "clickup.task.linked"]
    assert _kinds(_feed(api, auth, ticket_id)) == again


def test_a_refused_link_publishes_nothing(api, auth, clickup, workspace) -> None:
    """The event is written by the link's own transaction: a link refused (409, 404) leaves no event."""
    _ready(api, auth, workspace)
    task = _clickup_task(clickup, workspace, "Taken")
    holder, other = str(uuid.uuid4()), str(uuid.uuid4())
    assert _link(api, auth, holder, task_id=task["id"]).status_code == 201
    assert _link(api, auth, other, task_id=task["id"]).status_code == 409
    assert _link(api, auth, other, task_id="zz9unknown").status_code == 404
    assert _kinds(_feed(api, auth, other)) == []
    assert _kinds(_feed(api, auth, holder)) == ["clickup.task.linked"]


def test_unlinking_a_failed_creation_is_published_with_its_state(api, auth, clickup, workspace) -> None:
    _ready(api, auth, workspace)
    rule = {
        "action": "status",
        "status": 400,
        "body": {"err": "Task name invalid", "ECODE": "INPUT_005"},
        "method": "POST",
        "path": r"/list/\d+/task$",
        "token": workspace["token"],
        "count": 1,
    }
    assert clickup.post("/_emulator/faults", json=rule).status_code == 200
    ticket_id = str(uuid.uuid4())
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    try:
        body = {"title": "Refused", "priority": "low", "customer_id": "cust-1"}
        assert api.post(url, headers=auth(), json=body).status_code == 202
        wait_for(lambda: api.get(url, headers=auth()).json()["state"] == "failed", timeout_s=30)
    finally:
        clickup.delete("/_emulator/faults")
    assert api.delete(url, headers=auth()).status_code == 204
    (unlinked,) = [e for e in _feed(api, auth, ticket_id) if e["type"] == "clickup.task.unlinked"]
    assert unlinked["data"] == {"task_id": None, "state": "failed", "by": "user:user-1"}
    assert unlinked.get("task_id") is None  # no task was ever created
