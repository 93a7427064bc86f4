"""ClickUp's payloads read as changes (bridge.webhooks.changes): the documented samples, dates in ms (as ClickUp
sends them: strings of digits), missing and malformed values, fields the bridge does not mirror, thin payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.clickup.models import Task
from bridge.webhooks.changes import (
    Change,
    changes_from_history,
    changes_from_task,
    comment_changes,
    digest,
    read_delivery,
    record_own_comment,
)

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "clickup" / "webhook-samples"


def _sample(name: str) -> dict[str, Any]:
    path = SAMPLES / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"ClickUp's documented webhook samples are missing: {path} (the shared folder beside the clone)")
    return dict(json.loads(path.read_text()))


def _item(field: str, before: Any = None, after: Any = None, **extra: Any) -> dict[str, Any]:
    return {"id": "h1", "date": "1700000000000", "field": field, "before": before, "after": after, **extra}


def test_documented_status_sample_is_one_status_change_with_its_previous_and_author() -> None:
    payload = _sample("taskStatusUpdated")
    reading = read_delivery(payload)
    assert reading.kind == "task" and reading.task_id == "1vj38vv" and not reading.needs_task_read
    (change,) = reading.changes
    assert change == Change(
        "status",
        "in progress",
        date_ms=1642736073330,
        key="history:2800787326392370170",
        actor="clickup:user:183",
        data={"previous": "to do"},
    )


def test_documented_assignee_sample_adds_the_user_in_after_not_the_author() -> None:
    (change,) = read_delivery(_sample("taskAssigneeUpdated")).changes
    assert (change.field, change.value, change.actor) == ("assignees", {"add": 184}, "clickup:user:183")


def test_documented_move_sample_names_the_new_list() -> None:
    (change,) = read_delivery(_sample("taskMoved")).changes
    assert (change.field, change.value, change.date_ms) == ("list_id", "162641285", 1642736879339)


def test_documented_creation_sample_reports_nothing() -> None:
    # the status a task is created with (before: null) and `task_creation` are not changes of a linked task
    assert read_delivery(_sample("taskCreated")).changes == ()


def test_documented_list_sample_is_handed_to_the_space_sync() -> None:
    reading = read_delivery(_sample("listUpdated"))
    assert (reading.kind, reading.event, reading.changes) == ("hierarchy", "listUpdated", ())


@pytest.mark.parametrize("task_id", [None, "", "../etc", "a/b", 123, "x" * 300])
def test_a_task_id_that_is_no_clickup_id_is_ignored(task_id: Any) -> None:
    reading = read_delivery({"event": "taskStatusUpdated", "task_id": task_id, "history_items": [_item("priority")]})
    assert reading.kind == "ignored" and reading.task_id is None and reading.changes == ()


@pytest.mark.parametrize("items", [None, [], "not a list", {"id": "h1"}])
def test_a_thin_payload_of_a_task_event_asks_for_the_task(items: Any) -> None:
    payload: dict[str, Any] = {"event": "taskPriorityUpdated", "task_id": "abc1"}
    if items is not None:
        payload["history_items"] = items
    reading = read_delivery(payload)
    assert reading.kind == "task" and reading.needs_task_read and reading.changes == ()


def test_a_thin_payload_of_another_event_does_not_ask_for_the_task() -> None:
    assert not read_delivery({"event": "taskCreated", "task_id": "abc1"}).needs_task_read
    assert not read_delivery({"event": "taskCommentPosted", "task_id": "abc1", "history_items": []}).needs_task_read


def test_dates_are_ms_whether_a_string_or_a_number_and_missing_or_malformed_dates_are_zero() -> None:
    items = [
        {**_item("priority", after="1"), "id": "a", "date": "1642736073330"},
        {**_item("priority", after="1"), "id": "b", "date": 1642736073330},
        {**_item("priority", after="1"), "id": "c"} | {"date": None},
        {**_item("priority", after="1"), "id": "d", "date": "yesterday"},
        {**_item("priority", after="1"), "id": "e", "date": ""},
    ]
    assert [c.date_ms for c in changes_from_history("taskUpdated", "t1", items)] == [
        1642736073330,
        1642736073330,
        0,
        0,
        0,
    ]


def test_a_due_date_is_kept_in_ms_and_cleared_by_null() -> None:
    changes = changes_from_history(
        "taskDueDateUpdated",
        "t1",
        [
            {**_item("due_date", after="1767225600000"), "id": "a"},
            {**_item("due_date", before="1767225600000", after=None), "id": "b"},
        ],
    )
    assert [(c.field, c.value) for c in changes] == [("due_date", 1767225600000), ("due_date", None)]


@pytest.mark.parametrize(
    ("after", "name"),
    [({"id": "1", "priority": "urgent"}, "urgent"), ("2", "high"), (3, "normal"), ("low", "low"), (None, None)],
)
def test_every_priority_form_reads_as_the_portal_name(after: Any, name: str | None) -> None:
    (change,) = changes_from_history("taskPriorityUpdated", "t1", [_item("priority", after=after)])
    assert (change.field, change.value) == ("priority", name)


def test_unknown_fields_and_unreadable_items_change_nothing() -> None:
    items = [
        _item("name", "old", "new"),
        _item("content", "a", "b"),
        _item("custom_field", None, "x"),
        _item("tag", None, [{"name": "x"}]),
        {"field": "priority", "after": "1"},  # no id: cannot be told from a re-send
        "not an item",
        _item("status", None, "open"),  # after is not an object
        _item("assignee_add", None, {"username": "no id"}),
        _item("section_moved", None, {"name": "no id"}),
        _item("comment", None, None),  # no comment id anywhere
    ]
    assert changes_from_history("taskUpdated", "t1", items) == []


def test_a_removed_assignee_is_the_user_in_before() -> None:
    (change,) = changes_from_history("taskAssigneeUpdated", "t1", [_item("assignee_rem", before={"id": "7"})])
    assert change.value == {"rem": 7}


def test_an_item_naming_no_user_is_clickups_own() -> None:
    (change,) = changes_from_history("taskUpdated", "t1", [_item("priority", after="1", user=None)])
    assert change.actor == "clickup"


def test_a_deleted_task_is_one_final_change() -> None:
    changes = changes_from_history("taskDeleted", "t9", [])
    assert changes == [Change("deleted", True, date_ms=0, key="deleted:t9")]


def test_a_comment_item_is_keyed_by_its_history_id_and_text_and_kind_by_event() -> None:
    item = _item("comment", after="c1", comment={"id": "c1", "text_content": "Hello\n"})
    posted = changes_from_history("taskCommentPosted", "t1", [item])
    generic = changes_from_history("taskUpdated", "t1", [item])
    edited = changes_from_history("taskCommentUpdated", "t1", [{**item, "comment": {"text_content": "Hello!\n"}}])
    assert [c.kind for c in posted + generic + edited] == ["posted", "generic", "updated"]
    assert posted[0].value == "Hello" and posted[0].data == {"comment_id": "c1"}
    assert posted[0].key == generic[0].key == f"history:h1#{digest('Hello')}"
    assert edited[0].key != posted[0].key  # one history id, two versions: two changes


def test_a_tasks_state_read_back_is_one_change_per_field_keyed_by_value_and_date() -> None:
    task = Task.model_validate(
        {
            "id": "t1",
            "name": "x",
            "status": {"status": "open"},
            "priority": {"id": "2", "priority": "high"},
            "assignees": [{"id": 9}, {"id": 3}],
            "due_date": "1767225600000",
            "date_updated": "1700000000123",
            "list": {"id": "L1"},
        }
    )
    changes = {c.field: c for c in changes_from_task(task)}
    assert {f: c.value for f, c in changes.items()} == {
        "status": "open",
        "priority": "high",
        "due_date": 1767225600000,
        "assignees": {"set": [3, 9]},
        "list_id": "L1",
    }
    assert all(c.date_ms == 1700000000123 and c.key.startswith("state:") for c in changes.values())
    assert changes["status"].key == 'state:"open"@1700000000123'


def test_comments_read_back_report_a_known_comment_gone_and_an_edit_but_not_a_rendering() -> None:
    link: dict[str, Any] = {}
    record_own_comment(link, "c1", "same", 100)
    record_own_comment(link, "c2", "before", 100)
    record_own_comment(link, "c3", "gone", 100)
    link["comments"]["c4"] = {"d": 50, "h": digest("deleted before"), "x": True}
    read = [
        {"id": "c1", "comment_text": "same", "comment": [{"text": "same"}, {"text": "\n"}]},
        {"id": "c2", "comment_text": "after", "comment": [{"text": "after\n"}]},
    ]
    changes = {c.data["comment_id"]: c for c in comment_changes(read, link, 90)}
    assert set(changes) == {"c2", "c3"}  # c1 unchanged, c4 known deleted
    assert (changes["c3"].kind, changes["c3"].value, changes["c3"].date_ms) == ("deleted", None, 90)
    # an edit read back is dated after the version known, even when the task's date is older
    assert (changes["c2"].kind, changes["c2"].value, changes["c2"].date_ms) == ("updated", "after", 101)


def test_our_own_comment_keeps_the_newest_version() -> None:
    link: dict[str, Any] = {}
    record_own_comment(link, "c1", "new", 200)
    record_own_comment(link, "c1", "old", 100)
    assert link["comments"]["c1"] == {"d": 200, "h": digest("new"), "k": [], "a": True, "own": True}
