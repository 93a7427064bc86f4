"""Issue 14, failures 3 and 4, over the local stack.

Comments: an edited comment is an edit (`clickup.task.comment_updated`), never a second addition; a deleted one is
`clickup.task.comment_deleted` (found by the sweep: ClickUp documents no webhook for it), under both readings of
what ClickUp sends and whether a comment change moves the task's `date_updated`.

Echoes: what the bridge wrote comes back from ClickUp in ClickUp's rendering (status in the list's spelling, a
comment's text with a closing newline and as blocks, a date rounded, a priority as an object, a number or a string,
a comment id as a number); each is recognised as our own write, and a ClickUp user's change is still news."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import send, wait_for
from tests.integration.test_webhooks import (
    _act,
    _deliver,
    _delivered,
    _events,
    _history,
    _inbox,
    _linked_task,
)

COMMENT_TYPES = ("clickup.task.comment_added", "clickup.task.comment_updated", "clickup.task.comment_deleted")


@pytest.fixture
def rendering(clickup: httpx.Client):
    """Set the emulator's readings of what ClickUp leaves open; back to the defaults afterwards."""
    yield lambda **config: clickup.put("/_emulator/rendering", json=config).raise_for_status()
    clickup.put("/_emulator/rendering", json={"comment_id_as_number": False, "comment_touches_task": False})


@pytest.fixture
def dropping(clickup: httpx.Client):
    """Have ClickUp give up on a ratio of deliveries; none afterwards."""
    yield lambda ratio: clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": ratio}).raise_for_status()
    clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 0}).raise_for_status()


def _comment_events(api, auth, ticket_id: str) -> list[tuple[str, str, Any, bool]]:
    """(type, comment id, text, current) of the ticket's comment events, in the order recorded."""
    return [
        (e["type"].rsplit(".", 1)[1], e["data"]["comment_id"], e["data"].get("text"), e["data"]["current"])
        for e in _events(api, auth, ticket_id)
        if e["type"] in COMMENT_TYPES
    ]


def _settle(api, auth, ticket_id: str, count: int) -> list[tuple[str, str, Any, bool]]:
    wait_for(lambda: len(_comment_events(api, auth, ticket_id)) >= count, timeout_s=30)
    time.sleep(1.0)  # the processor's queue drains: nothing more arrives
    return _comment_events(api, auth, ticket_id)


def _comment_item(hid: str, comment_id: Any, date_ms: int, text: str, user_id: int = 183, shape: str = "doc") -> dict:
    """A `comment` history item as ClickUp documents it (`doc`: the comment object with blocks and text_content,
    webhooktaskpayloads) or as other published samples show it (`blocks`: the blocks array itself)."""
    blocks = [{"text": text, "attributes": {}}, {"text": "\n", "attributes": {"block-id": "block-1"}}]
    comment: Any = (
        {"id": str(comment_id), "date": str(date_ms), "type": 1, "comment": blocks, "text_content": text + "\n"}
        if shape == "doc"
        else blocks
    )
    return {
        "id": hid,
        "type": 1,
        "date": str(date_ms),
        "field": "comment",
        "parent_id": "1",
        "data": {},
        "source": None,
        "user": {"id": user_id, "username": "John"},
        "before": None,
        "after": comment_id,
        "comment": comment,
    }


def _comment_payload(event: str, task_id: str, item: dict) -> dict:
    return {"event": event, "task_id": task_id, "history_items": [item]}


# -- failure 3: comment edits and deletions -----------------------------------------------------------------------
def test_an_edited_comment_is_reported_as_an_edit_once_per_edit(api, auth, clickup, workspace) -> None:
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    posted = _act(clickup, workspace, action="comment", task_id=task_id, text="Looking into it")
    _delivered(clickup, hook["id"])
    _settle(api, auth, ticket_id, 1)
    _act(clickup, workspace, action="edit_comment", comment_id=posted["id"], text="Looking into it now")
    _delivered(clickup, hook["id"])
    events = _settle(api, auth, ticket_id, 2)
    assert events == [
        ("comment_added", posted["id"], "Looking into it", True),
        ("comment_updated", posted["id"], "Looking into it now", True),
    ]
    # ClickUp re-sends the edit: nothing new; a second edit of the same comment is a second update
    edits = [
        d["body"]
        for d in clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["deliveries"]
        if d["body"].get("event") == "taskCommentUpdated" and d["body"].get("task_id") == task_id
    ]
    assert len(edits) == 1
    # the emulator sends what ClickUp documents: the comment object, its blocks, text_content with a closing newline
    comment = edits[0]["history_items"][0]["comment"]
    assert edits[0]["history_items"][0]["after"] == posted["id"] and comment["id"] == posted["id"]
    assert comment["text_content"] == "Looking into it now\n" and comment["comment"][-1]["text"] == "\n"
    _deliver(api, hook, edits[0])
    _act(clickup, workspace, action="edit_comment", comment_id=posted["id"], text="Fixed")
    _delivered(clickup, hook["id"])
    events = _settle(api, auth, ticket_id, 3)
    assert [(kind, text) for kind, _, text, _ in events] == [
        ("comment_added", "Looking into it"),
        ("comment_updated", "Looking into it now"),
        ("comment_updated", "Fixed"),
    ]


@pytest.mark.parametrize("shape", ["doc", "blocks"])
def test_an_edit_arriving_before_its_addition_is_still_an_edit(api, auth, clickup, workspace, shape) -> None:
    """The edit first, then the addition, each with the generic taskUpdated beside it and re-sent; under both
    shapes of the `comment` field, and with the edit carrying its own history id or the addition's one."""
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    now = int(time.time() * 1000)
    comment_id = 7_700_000_000 + now % 1_000_000  # a number, as ClickUp's ids may come
    added = _comment_item(f"{ticket_id}-h1", comment_id, now - 5000, "first words", shape=shape)
    edited = _comment_item(f"{ticket_id}-h2", comment_id, now, "second words", shape=shape)
    edited_same_id = _comment_item(f"{ticket_id}-h1", comment_id, now + 1000, "third words", shape=shape)
    _deliver(api, hook, _comment_payload("taskCommentUpdated", task_id, edited))
    wait_for(lambda: _comment_events(api, auth, ticket_id))
    for event, item in [
        ("taskUpdated", edited),
        ("taskCommentPosted", added),
        ("taskUpdated", added),
        ("taskCommentUpdated", edited),
        ("taskCommentPosted", added),
        ("taskCommentUpdated", edited_same_id),
        ("taskUpdated", edited_same_id),
    ]:
        _deliver(api, hook, _comment_payload(event, task_id, item))
    events = _settle(api, auth, ticket_id, 3)
    assert events[0] == ("comment_updated", str(comment_id), "second words", True)
    assert sorted(events) == [  # the rest was processed concurrently: in either order
        ("comment_added", str(comment_id), "first words", False),
        ("comment_updated", str(comment_id), "second words", True),
        ("comment_updated", str(comment_id), "third words", True),
    ]


def test_the_generic_task_updated_alone_tells_an_addition_from_an_edit(api, auth, clickup, workspace) -> None:
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    now = int(time.time() * 1000)
    _deliver(api, hook, _comment_payload("taskUpdated", task_id, _comment_item(f"{ticket_id}-a", 91, now, "hello")))
    wait_for(lambda: _comment_events(api, auth, ticket_id))
    edit = _comment_item(f"{ticket_id}-b", 91, now + 10, "hello again")
    _deliver(api, hook, _comment_payload("taskUpdated", task_id, edit))
    assert [e[0] for e in _settle(api, auth, ticket_id, 2)] == ["comment_added", "comment_updated"]


def test_a_clickup_users_edit_of_our_own_comment_is_an_edit(api, auth, clickup, workspace, rendering) -> None:
    rendering(comment_id_as_number=True)  # the answer's id as real answers carry it
    ticket_id, _task_id, hook = _linked_task(api, auth, clickup, workspace)
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.post(f"{url}/comments", headers=auth(), json={"text": "from the portal"}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    ours = next(e for e in _history(api, auth, ticket_id) if e["action"] == "commented")["after"]["comment_id"]
    _delivered(clickup, hook["id"])
    time.sleep(1.0)
    assert _comment_events(api, auth, ticket_id) == []  # our own comment's echo
    _act(clickup, workspace, action="edit_comment", comment_id=ours, text="from the portal, corrected")
    _delivered(clickup, hook["id"])
    assert _settle(api, auth, ticket_id, 1) == [("comment_updated", ours, "from the portal, corrected", True)]


def _sweep(stack, org_id: str) -> None:
    send(
        stack,
        "maintenance",
        {"kind": "sweep", "org_id": org_id},
        MessageGroupId=org_id,
        MessageDeduplicationId=uuid.uuid4().hex,
    )


@pytest.mark.parametrize("touches", [False, True], ids=["date_updated_kept", "date_updated_moved"])
def test_a_deleted_comment_is_reported_as_deleted_by_the_sweep(
    api, auth, clickup, workspace, stack, org_id, rendering, touches
) -> None:
    """ClickUp documents no webhook for a deleted comment: the sweep reads a linked task's comments back. Whether
    deleting moves the task's date_updated is undocumented: when it does not, the next change of the task brings
    the task (and the deletion) into the sweep."""
    rendering(comment_touches_task=touches)
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    kept = _act(clickup, workspace, action="comment", task_id=task_id, text="stays")
    gone = _act(clickup, workspace, action="comment", task_id=task_id, text="goes")
    _delivered(clickup, hook["id"])
    _settle(api, auth, ticket_id, 2)
    deliveries = len(clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["deliveries"])
    time.sleep(0.01)
    _act(clickup, workspace, action="delete_comment", comment_id=gone["id"])
    after = clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["deliveries"]
    assert len(after) == deliveries  # nothing sent: ClickUp documents no event for it
    if not touches:
        _act(clickup, workspace, action="set_priority", task_id=task_id, priority=2)  # the task's next change
        _delivered(clickup, hook["id"])
    _sweep(stack, org_id)
    wait_for(lambda: len(_comment_events(api, auth, ticket_id)) >= 3, timeout_s=30)
    _sweep(stack, org_id)  # a second sweep reports nothing again
    time.sleep(2.0)
    events = _comment_events(api, auth, ticket_id)
    assert sorted(events[:2]) == sorted(  # the two comments were processed concurrently: in either order
        [("comment_added", kept["id"], "stays", True), ("comment_added", gone["id"], "goes", True)]
    )
    assert events[2:] == [("comment_deleted", gone["id"], None, True)]


def test_an_edit_whose_webhook_was_dropped_is_repaired_by_the_sweep(
    api, auth, clickup, workspace, stack, org_id, dropping, rendering
) -> None:
    rendering(comment_touches_task=True)
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    posted = _act(clickup, workspace, action="comment", task_id=task_id, text="draft")
    _delivered(clickup, hook["id"])
    _settle(api, auth, ticket_id, 1)
    dropping(1.0)  # ClickUp gives up on the edit's event
    _act(clickup, workspace, action="edit_comment", comment_id=posted["id"], text="final")
    _delivered(clickup, hook["id"])
    _sweep(stack, org_id)
    events = _settle(api, auth, ticket_id, 2)
    assert events == [
        ("comment_added", posted["id"], "draft", True),
        ("comment_updated", posted["id"], "final", True),
    ]
    assert _events(api, auth, ticket_id, "clickup.task.comment_updated")[0]["data"]["by"] == "clickup"


def test_the_emulator_updates_and_deletes_comments_as_clickup_documents(clickup, workspace) -> None:
    token = {"Authorization": workspace["token"]}
    list_id = _inbox(workspace)["id"]
    task = clickup.post(f"/api/v2/list/{list_id}/task", headers=token, json={"name": "t"}).json()
    created = clickup.post(
        f"/api/v2/task/{task['id']}/comment", headers=token, json={"comment_text": "one", "notify_all": False}
    ).json()
    assert set(created) == {"id", "hist_id", "date"}
    assert clickup.put(f"/api/v2/comment/{created['id']}", headers=token, json={"comment_text": "two"}).json() == {}
    listed = clickup.get(f"/api/v2/task/{task['id']}/comment", headers=token).json()["comments"]
    assert [(c["id"], c["comment_text"]) for c in listed] == [(created["id"], "two")]
    bad = clickup.put(f"/api/v2/comment/{created['id']}", headers=token, json={"comment_text": "  "})
    assert bad.status_code == 400
    assert clickup.delete(f"/api/v2/comment/{created['id']}", headers=token).json() == {}
    assert clickup.get(f"/api/v2/task/{task['id']}/comment", headers=token).json()["comments"] == []
    assert clickup.delete(f"/api/v2/comment/{created['id']}", headers=token).status_code == 401  # unknown id
    # 30 comments: pages of 25, the next from the last one's date and id
    for n in range(30):
        clickup.post(f"/api/v2/task/{task['id']}/comment", headers=token, json={"comment_text": f"c{n}"})
    first = clickup.get(f"/api/v2/task/{task['id']}/comment", headers=token).json()["comments"]
    last = first[-1]
    rest = clickup.get(
        f"/api/v2/task/{task['id']}/comment", headers=token, params={"start": last["date"], "start_id": last["id"]}
    ).json()["comments"]
    assert len(first) == 25 and len(rest) == 5
    assert [c["comment_text"] for c in first + rest] == [f"c{n}" for n in reversed(range(30))]


# -- failure 4: our own writes in ClickUp's rendering ------------------------------------------------------------
def test_a_status_mapped_in_another_case_is_our_echo(api, auth, clickup, workspace) -> None:
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    list_id = _inbox(workspace)["id"]
    settings = {"status_mapping": {list_id: {"open": "Doing", "closed": "DONE"}}}
    answer = api.put("/api/v1/clickup/settings", headers=auth(), json=settings)
    assert answer.status_code == 200, answer.text
    # stored in the list's own spelling
    assert answer.json()["status_mapping"] == {list_id: {"open": "doing", "closed": "done"}}
    assert api.get("/api/v1/clickup/settings", headers=auth()).json()["status_mapping"][list_id]["open"] == "doing"
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    before = [e["action"] for e in _history(api, auth, ticket_id)]
    assert api.patch(url, headers=auth(), json={"status": "open"}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    _delivered(clickup, hook["id"])
    time.sleep(1.0)
    assert api.get(url, headers=auth()).json()["status"] == "doing"
    assert _events(api, auth, ticket_id, "clickup.task.status_changed") == []
    assert "clickup_changed" not in [e["action"] for e in _history(api, auth, ticket_id)][len(before) :]
    # a ClickUp user's change is news
    _act(clickup, workspace, action="set_status", task_id=task_id, status="done")
    wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.status_changed"))
    assert any(e["action"] == "clickup_changed" for e in _history(api, auth, ticket_id))


def test_settings_stored_before_in_another_case_write_the_lists_spelling(api, auth, clickup, workspace) -> None:
    """A mapping stored as the admin typed it (before mappings were kept in the list's spelling) is written in the
    list's spelling, and its echo is ours."""
    from bridge.repositories import org_settings

    ticket_id, _task_id, hook = _linked_task(api, auth, clickup, workspace)
    org_id = api.get("/api/v1/me", headers=auth()).json()["org_id"]
    list_id = _inbox(workspace)["id"]
    current = org_settings.get(org_id)
    org_settings.put(org_id, current.model_copy(update={"status_mapping": {list_id: {"open": "DOING"}}}))
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.patch(url, headers=auth(), json={"status": "open"}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    _delivered(clickup, hook["id"])
    time.sleep(1.0)
    assert api.get(url, headers=auth()).json()["status"] == "doing"
    assert _events(api, auth, ticket_id, "clickup.task.status_changed") == []


def _owner(workspace: dict) -> dict:
    return {"id": workspace["user"]["id"], "username": workspace["user"]["username"]}


def _item(hid: str, field: str, before: Any, after: Any, user: dict) -> dict:
    return {
        "id": hid,
        "type": 1,
        "date": str(int(time.time() * 1000) + 1000),
        "field": field,
        "parent_id": "1",
        "data": {},
        "source": None,
        "user": user,
        "before": before,
        "after": after,
    }


@pytest.mark.parametrize("form", ["object", "number", "string", "name"])
def test_a_priority_in_any_of_clickups_forms_is_our_echo(api, auth, clickup, workspace, form) -> None:
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.patch(url, headers=auth(), json={"priority": "urgent"}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    _delivered(clickup, hook["id"])
    after = {"object": {"id": "1", "priority": "URGENT", "color": "#f50000"}, "number": 1, "string": "1"}.get(
        form, "Urgent"
    )
    item = _item(f"{ticket_id}-p", "priority", {"id": "3", "priority": "normal"}, after, _owner(workspace))
    _deliver(api, hook, {"event": "taskPriorityUpdated", "task_id": task_id, "history_items": [item]})
    time.sleep(1.5)
    assert _events(api, auth, ticket_id, "clickup.task.priority_changed") == []
    assert api.get(url, headers=auth()).json()["priority"] == "urgent"
    # a ClickUp user's priority in the same form is news
    other = {"object": {"id": "4", "priority": "low"}, "number": 4, "string": "4"}.get(form, "low")
    item = _item(f"{ticket_id}-q", "priority", after, other, _owner(workspace))
    _deliver(api, hook, {"event": "taskPriorityUpdated", "task_id": task_id, "history_items": [item]})
    wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.priority_changed"))
    assert api.get(url, headers=auth()).json()["priority"] == "low"


@pytest.mark.parametrize("rounding_ms", [-30_250, 29_750, -250], ids=["down_to_minute", "up_to_minute", "to_second"])
def test_a_due_date_clickup_rounded_is_our_echo(api, auth, clickup, workspace, rounding_ms) -> None:
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    written = "2027-03-04T10:00:30.250Z"
    written_ms = 1804154430250
    assert api.patch(url, headers=auth(), json={"due_date": written}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    _delivered(clickup, hook["id"])
    item = _item(f"{ticket_id}-d", "due_date", None, str(written_ms + rounding_ms), _owner(workspace))
    _deliver(api, hook, {"event": "taskDueDateUpdated", "task_id": task_id, "history_items": [item]})
    time.sleep(1.5)
    assert _events(api, auth, ticket_id, "clickup.task.due_date_changed") == []
    # a ClickUp user's date (a day later) is news
    _act(clickup, workspace, action="set_due_date", task_id=task_id, due_date=written_ms + 86_400_000)
    wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.due_date_changed"))


def test_our_comment_in_clickups_rendering_is_our_echo(api, auth, clickup, workspace) -> None:
    """The emulator renders our comment as ClickUp does (text_content with a closing newline, blocks); a rendering
    whose whitespace differs, and one whose text differs but carries our comment's id (a number), are ours too."""
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    text = "Thanks,\r\nwe are on it  "
    assert api.post(f"{url}/comments", headers=auth(), json={"text": text}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    ours = next(e for e in _history(api, auth, ticket_id) if e["action"] == "commented")["after"]["comment_id"]
    _delivered(clickup, hook["id"])
    now = int(time.time() * 1000)
    rendered = _comment_item(
        f"{ticket_id}-r", 88_000_001, now, "Thanks,\nwe are on it", user_id=workspace["user"]["id"]
    )
    rendered["comment"]["text_content"] = "Thanks,\nwe are on it\n"
    by_id = _comment_item(f"{ticket_id}-s", int(ours), now, "Thanks, we are on it ✓", user_id=workspace["user"]["id"])
    for item in (rendered, by_id):
        _deliver(api, hook, _comment_payload("taskCommentPosted", task_id, item))
    time.sleep(1.5)
    assert _comment_events(api, auth, ticket_id) == []
    # a ClickUp user's comment is news
    posted = _act(clickup, workspace, action="comment", task_id=task_id, text="a user's words")
    assert _settle(api, auth, ticket_id, 1) == [("comment_added", posted["id"], "a user's words", True)]


def test_assignees_with_ids_as_strings_are_our_echo(api, auth, clickup, workspace) -> None:
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    uid = workspace["user"]["id"]
    assert api.patch(url, headers=auth(), json={"assignees": [uid]}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    _delivered(clickup, hook["id"])
    item = _item(f"{ticket_id}-a", "assignee_add", None, {"id": str(uid), "username": "x"}, _owner(workspace))
    _deliver(api, hook, {"event": "taskAssigneeUpdated", "task_id": task_id, "history_items": [item]})
    time.sleep(1.5)
    assert _events(api, auth, ticket_id, "clickup.task.assignees_changed") == []
    assert api.get(url, headers=auth()).json()["assignees"] == [uid]
    # a ClickUp user's removal (the id as a string again) is news
    item = _item(f"{ticket_id}-b", "assignee_rem", {"id": str(uid)}, None, _owner(workspace))
    _deliver(api, hook, {"event": "taskAssigneeUpdated", "task_id": task_id, "history_items": [item]})
    wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.assignees_changed"))
    assert api.get(url, headers=auth()).json()["assignees"] == []


def _colleague(clickup, workspace) -> int:
    """Another member of the workspace (not the user whose token the bridge writes with)."""
    tag = uuid.uuid4().hex[:6]
    user = clickup.post("/_emulator/users", json={"username": f"Colleague {tag}", "email": f"c{tag}@example.com"})
    user_id = int(user.json()["id"])
    team_id = workspace["team_id"]
    assert clickup.post(f"/_emulator/teams/{team_id}/members", json={"user_id": user_id}).status_code == 200
    return user_id


def test_another_users_change_to_the_value_we_just_wrote_is_news(api, auth, clickup, workspace) -> None:
    """Found by a new user: echo marks matched on the value alone for 15 minutes, so a colleague setting in ClickUp
    the status, priority or comment text the bridge had just written was dropped. ClickUp's history items name the
    user who made each change: only the user the bridge writes as can produce our echo."""
    ticket_id, task_id, hook = _linked_task(api, auth, clickup, workspace)
    colleague = _colleague(clickup, workspace)
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    assert api.patch(url, headers=auth(), json={"priority": "urgent"}).status_code == 202
    assert api.post(f"{url}/comments", headers=auth(), json={"text": "On it"}).status_code == 202
    wait_for(lambda: api.get(url, headers=auth()).json()["pending_changes"] == 0)
    _delivered(clickup, hook["id"])
    assert _events(api, auth, ticket_id, "clickup.task.priority_changed") == []  # ours: no event
    # a colleague moves the priority away and back to the value we wrote, and posts the same text
    _act(clickup, workspace, user_id=colleague, action="set_priority", task_id=task_id, priority=3)
    _act(clickup, workspace, user_id=colleague, action="set_priority", task_id=task_id, priority=1)
    _act(clickup, workspace, user_id=colleague, action="comment", task_id=task_id, text="On it")
    _delivered(clickup, hook["id"])

    def priorities() -> list[Any]:
        return [e["data"]["priority"] for e in _events(api, auth, ticket_id, "clickup.task.priority_changed")]

    wait_for(lambda: priorities() == ["normal", "urgent"])
    added = wait_for(lambda: _events(api, auth, ticket_id, "clickup.task.comment_added"))
    assert [e["data"]["text"] for e in added] == ["On it"] and added[0]["data"]["by"] == f"clickup:user:{colleague}"
    assert api.get(url, headers=auth()).json()["priority"] == "urgent"
