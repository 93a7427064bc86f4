"""ClickUp's payloads read as changes of a ticket's link (pure: no I/O, no AWS or HTTP code).

A verified delivery (`read_delivery`), its history items (`changes_from_history`), a task's state read back
(`changes_from_task`: thin payloads and the reconciliation sweep) and a task's comments read back
(`comment_changes`) all become `Change` records; `bridge.webhooks.decisions` decides what each does to the link.

Shapes: ClickUp's task webhook payloads (developer.clickup.com/docs/webhooktaskpayloads; the documented samples in
`shared/clickup/webhook-samples/`): `{"event", "task_id", "webhook_id", "history_items": [{"id", "date" (ms as a
string), "field", "user": {"id", ...}, "before", "after", "comment"?}]}`. Dates are ms since 1970 (UTC), as an int
or a string of digits."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bridge.core.comment_marks import digest, record_own_comment  # noqa: F401 (re-exported: its tests and processing)
from bridge.core.echo_forms import int_or_none, priority_name
from bridge.core.inputs import is_clickup_id
from bridge.tasks import render

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bridge.clickup.models import Task

HIERARCHY_PREFIXES = ("space", "folder", "list")
# Events whose payload may come without history items: the task is read to know what changed.
THIN_EVENTS = frozenset(
    {
        "taskUpdated",
        "taskStatusUpdated",
        "taskPriorityUpdated",
        "taskDueDateUpdated",
        "taskAssigneeUpdated",
        "taskMoved",
    }
)
# The event a comment's history item came in says what happened to it; the generic taskUpdated (sent beside the
# granular event with the same history item) does not: it is read against what the link knows of the comment.
COMMENT_KINDS = {"taskCommentPosted": "posted", "taskCommentUpdated": "updated"}


@dataclass(frozen=True)
class Change:
    """One change of a task as ClickUp reported it.

    - `field`: a link field (`status`, `priority`, `due_date`, `assignees`, `list_id`, `deleted`) or `comment`;
    - `value`: the new value in the link's terms (a status name, a portal priority name or None, ms or None,
      `{"add": id}` / `{"rem": id}` / `{"set": [ids]}` for assignees, a list id, True for deleted, a comment's text);
    - `date_ms`: ClickUp's date of the change (ms, UTC; 0 when unknown);
    - `key`: what makes this change itself: `history:{item id}` (a comment's: `#` and its text digest), or
      `state:{value}@{date}` for a task's state read back, `gone:`/`read:` for comments read back;
    - `actor`: `clickup:user:{id}` when the item names its user, else `clickup`;
    - `data`: `previous` (status: ClickUp's `before`), `comment_id`, `not_ours` (set by the decisions: the change
      was made by another ClickUp user than the one the bridge writes as);
    - `kind` (comments): `posted` | `updated` | `generic` (taskUpdated: read against the link) | `deleted`."""

    field: str
    value: Any
    date_ms: int
    key: str
    actor: str = "clickup"
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    kind: str = ""


@dataclass(frozen=True)
class DeliveryReading:
    """What a delivery's payload says: `kind` `hierarchy` (a space/folder/list event: handed to the space sync),
    `task` (changes of the task `task_id`; `needs_task_read`: a thin payload, the task is read to know what changed)
    or `ignored` (no usable task id: never a key or a path to build from)."""

    kind: Literal["hierarchy", "task", "ignored"]
    event: str
    task_id: str | None = None
    changes: tuple[Change, ...] = ()
    needs_task_read: bool = False


def read_delivery(payload: Mapping[str, Any]) -> DeliveryReading:
    """A verified delivery's payload (ClickUp's webhook body, or what ingest reduced of it) read as changes."""
    event = str(payload.get("event") or "")
    if event.startswith(HIERARCHY_PREFIXES):
        return DeliveryReading("hierarchy", event)
    task_id = payload.get("task_id")
    if not isinstance(task_id, str) or not is_clickup_id(task_id):
        return DeliveryReading("ignored", event)
    history = payload.get("history_items")
    items: list[Any] = history if isinstance(history, list) else []
    changes = tuple(changes_from_history(event, task_id, items))
    return DeliveryReading("task", event, task_id, changes, needs_task_read=not items and event in THIN_EVENTS)


def _priority_name(value: Any) -> str | None:
    """ClickUp's priority in any of its forms (an object, `"1"`, `1`, a name; null: none) as the portal's name."""
    name = priority_name(value)
    return name if name in render.PRIORITIES else None


def _actor(item: Mapping[str, Any]) -> str:
    user = item.get("user") or {}
    return f"clickup:user:{user['id']}" if isinstance(user, dict) and user.get("id") is not None else "clickup"


def _field_change(name: Any, before: Any, after: Any) -> tuple[str, Any, dict[str, Any]] | None:
    """A history item's field as a link field, its value and data; None for a field the bridge does not mirror
    (a name, a description, custom fields) or an item it cannot read."""
    if name == "status" and isinstance(after, dict) and after.get("status"):
        previous = before.get("status") if isinstance(before, dict) else None
        if previous is None:
            return None  # the status a task was created with (its creation was ours: the task is linked)
        return "status", str(after["status"]), {"previous": previous}
    if name == "priority":
        return "priority", _priority_name(after), {}
    if name == "due_date":
        return "due_date", int_or_none(after), {}
    if name in ("assignee_add", "assignee_rem"):
        user = after if name == "assignee_add" else before
        if isinstance(user, dict) and user.get("id") is not None:
            return "assignees", {"add" if name == "assignee_add" else "rem": int(user["id"])}, {}
        return None
    if name == "section_moved" and isinstance(after, dict) and after.get("id"):
        return "list_id", str(after["id"]), {}
    return None


def changes_from_history(event: str, task_id: str, items: list[Any]) -> list[Change]:
    """The changes a delivery's history items report, in the items' order (an item without an id, or of a field
    the bridge does not mirror, is skipped); `taskDeleted` adds the task's deletion (dated 0: it is final)."""
    changes = []
    for item in items:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        date, key, actor = int_or_none(item.get("date")) or 0, f"history:{item['id']}", _actor(item)
        if item.get("field") == "comment":
            comment = _comment_of(item)
            comment_id = _comment_id(item, comment)
            if comment_id is None:
                continue
            text = comment_text(comment)
            changes.append(
                Change(
                    "comment",
                    text,
                    date_ms=date,
                    key=f"{key}#{digest(text)}",  # one history id may carry several versions
                    actor=actor,
                    data={"comment_id": comment_id},
                    kind=COMMENT_KINDS.get(event, "generic"),
                )
            )
            continue
        read = _field_change(item.get("field"), item.get("before"), item.get("after"))
        if read is not None:
            link_field, value, data = read
            changes.append(Change(link_field, value, date_ms=date, key=key, actor=actor, data=data))
    if event == "taskDeleted":
        changes.append(Change("deleted", True, date_ms=0, key=f"deleted:{task_id}"))
    return changes


def changes_from_task(task: Task) -> list[Change]:
    """A task's state as changes dated by its last update (thin payloads, and the reconciliation sweep)."""
    date = int(task.date_updated or 0)

    def state(name: str, value: Any) -> Change:
        return Change(name, value, date_ms=date, key=f"state:{json.dumps(value, sort_keys=True)}@{date}")

    return [
        state("status", task.status.status),
        state("priority", render.PRIORITY_NAMES.get(task.priority_number or 0)),
        state("due_date", task.due_date),
        state("assignees", {"set": sorted(int(a.id) for a in task.assignees)}),
        state("list_id", task.list_id),
    ]


def _comment_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The comment a history item carries. ClickUp's documented taskCommentPosted payload has an object
    (`{"id", "comment": [blocks], "text_content", ...}`, developer.clickup.com/docs/webhooktaskpayloads); other
    published samples of taskCommentPosted/taskCommentUpdated carry the blocks array itself under `comment`
    (activepieces' ClickUp triggers). Both are read."""
    comment = item.get("comment")
    if isinstance(comment, list):
        return {"comment": comment}
    return comment if isinstance(comment, dict) else {}


def _comment_id(item: Mapping[str, Any], comment: Mapping[str, Any]) -> str | None:
    """The comment's id: the item's `after` (a string, or a number) or the comment's own `id`."""
    for value in (comment.get("id"), item.get("after")):
        if value not in (None, "") and not isinstance(value, (dict, list, bool)):
            return str(value)
    return None


def comment_text(comment: Mapping[str, Any]) -> str:
    """The comment's text as its author wrote it: ClickUp's `text_content`, else its blocks joined, else
    `comment_text`, without the closing newline ClickUp's rendering ends with (the last block is `"\\n"` and
    `text_content` ends with it: taskCommentPosted payload, developer.clickup.com/docs/webhooktaskpayloads)."""
    if isinstance(comment.get("text_content"), str):
        text = str(comment["text_content"])
    elif isinstance(comment.get("comment"), list):
        text = "".join(str(b.get("text") or "") for b in comment["comment"] if isinstance(b, dict))
    else:
        text = str(comment.get("comment_text") or "")
    return text[:-1] if text.endswith("\n") else text


def comment_changes(comments: list[dict[str, Any]], link: Mapping[str, Any], date_ms: int) -> list[Change]:
    """What the task's comments as read now (`GET /task/{id}/comment`, all pages back to the oldest comment the
    link knows) say that no webhook did: a known comment gone is deleted (ClickUp documents no webhook event for a
    deleted comment), a known comment whose text differs was edited. Dated `date_ms` (the task's date_updated)."""
    present = {str(c.get("id")): c for c in comments if c.get("id") is not None}
    out = []
    for comment_id, state in (link.get("comments") or {}).items():
        if state.get("x"):
            continue
        found = present.get(comment_id)
        if found is None:
            out.append(
                Change(
                    "comment",
                    None,
                    date_ms=date_ms,
                    key=f"gone:{comment_id}",
                    data={"comment_id": comment_id},
                    kind="deleted",
                )
            )
            continue
        text = comment_text(found)
        # GET answers `comment_text` and blocks where the webhook had `text_content`: any of them matching the
        # known version is that version (a rendering difference is not an edit)
        renderings = {text, str(found.get("comment_text") or ""), comment_text({"comment": found.get("comment")})}
        if state.get("h") not in {digest(r) for r in renderings}:
            out.append(
                Change(
                    "comment",
                    text,
                    date_ms=max(date_ms, int(state.get("d") or 0) + 1),
                    key=f"read:{comment_id}#{digest(text)}",
                    data={"comment_id": comment_id},
                    kind="updated",
                )
            )
    return out
