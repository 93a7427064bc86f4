"""ClickUp's changes into the bridge: a verified delivery (or a task state read by the reconciliation sweep)
becomes changes of a ticket's link and portal events.

- Duplicates change nothing: each change is reported once, keyed by its ClickUp history item (ClickUp re-sends,
  and sends a generic `taskUpdated` carrying the same items as the granular event).
- Order: each field of a link keeps the ClickUp date of its last applied change; an older change never
  overwrites a newer one, whatever order deliveries arrive in.
- Echoes: a change the bridge made itself (the task pipeline's echo marks, one per value written) updates the
  link but is neither news nor a ClickUp user's change in the audit trail; the echo of an older write of ours,
  arriving after a newer one, changes nothing (the task pipeline dates its writes with ClickUp's answer).
- `space*`/`folder*`/`list*` events hand over to the space sync (a targeted refresh).
- Tasks linked to no ticket are ignored after one read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge.clickup.models import Task
from bridge.connection import service as connection
from bridge.core.inputs import is_clickup_id
from bridge.core.observability import logger, metrics
from bridge.events import models as events
from bridge.events.publisher import publish
from bridge.queueing.messages import WebhookDelivery
from bridge.repositories import audit, echo_marks, org_settings, ticket_links
from bridge.tasks import render

HIERARCHY_PREFIXES = ("space", "folder", "list")
OUTBOX_LEASE_MS = 60_000  # far longer than a publication takes; shorter than a message's visibility timeout
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
EVENT_TYPES = {
    "status": "clickup.task.status_changed",
    "priority": "clickup.task.priority_changed",
    "due_date": "clickup.task.due_date_changed",
    "assignees": "clickup.task.assignees_changed",
    "list_id": "clickup.task.moved",
    "comment": "clickup.task.comment_added",
    "deleted": "clickup.task.deleted",
}
COMMENT_EVENT_TYPES = {
    "added": "clickup.task.comment_added",
    "updated": "clickup.task.comment_updated",
    "deleted": "clickup.task.comment_deleted",
}
# The event a comment's history item came in says what happened to it; the generic taskUpdated (sent beside the
# granular event with the same history item) does not: it is read against what the link knows of the comment.
COMMENT_KINDS = {"taskCommentPosted": "posted", "taskCommentUpdated": "updated"}
COMMENT_KEYS_KEPT = 20  # per comment: the history keys already handled (re-sends, the generic copy)


@dataclass
class Change:
    field: str  # a link field (status, priority, due_date, assignees, list_id, deleted) or "comment"
    value: Any
    date_ms: int
    key: str  # what makes this change itself: the history item id, or the task's state at a date
    actor: str = "clickup"
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    kind: str = ""  # comments: posted | updated | generic (taskUpdated: read against the link) | deleted


# -- reading ClickUp's payloads ------------------------------------------------------------------------------
def _priority_name(value: Any) -> str | None:
    """ClickUp's priority in any of its forms (an object, `"1"`, `1`, a name; null: none) as the portal's name."""
    name = echo_marks.priority_name(value)
    return name if name in render.PRIORITIES else None


def _ms(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _actor(item: dict[str, Any]) -> str:
    user = item.get("user") or {}
    return f"clickup:user:{user['id']}" if isinstance(user, dict) and user.get("id") is not None else "clickup"


def changes_from_history(event: str, task_id: str, items: list[dict[str, Any]]) -> list[Change]:
    changes = []
    for item in items:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        name, after, before = item.get("field"), item.get("after"), item.get("before")
        date, key, actor = _ms(item.get("date")) or 0, f"history:{item['id']}", _actor(item)

        def change(link_field: str, value: Any, data: dict[str, Any] | None = None) -> Change:
            return Change(link_field, value, date_ms=date, key=key, actor=actor, data=data or {})  # noqa: B023

        if name == "status" and isinstance(after, dict) and after.get("status"):
            previous = before.get("status") if isinstance(before, dict) else None
            if previous is None:
                continue  # the status a task was created with (its creation was ours: the task is linked)
            changes.append(change("status", str(after["status"]), {"previous": previous}))
        elif name == "priority":
            changes.append(change("priority", _priority_name(after)))
        elif name == "due_date":
            changes.append(change("due_date", _ms(after)))
        elif name in ("assignee_add", "assignee_rem"):
            user = after if name == "assignee_add" else before
            if isinstance(user, dict) and user.get("id") is not None:
                changes.append(change("assignees", {"add" if name == "assignee_add" else "rem": int(user["id"])}))
        elif name == "section_moved" and isinstance(after, dict) and after.get("id"):
            changes.append(change("list_id", str(after["id"])))
        elif name == "comment":
            comment = _comment_of(item)
            comment_id = _comment_id(item, comment)
            if comment_id is None:
                continue
            text = comment_text(comment)
            digest = _digest(text)
            changes.append(
                Change(
                    "comment",
                    text,
                    date_ms=date,
                    key=f"history:{item['id']}#{digest}",  # one history id may carry several versions
                    actor=actor,
                    data={"comment_id": comment_id},
                    kind=COMMENT_KINDS.get(event, "generic"),
                )
            )
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


def _comment_of(item: dict[str, Any]) -> dict[str, Any]:
    """The comment a history item carries. ClickUp's documented taskCommentPosted payload has an object
    (`{"id", "comment": [blocks], "text_content", ...}`, developer.clickup.com/docs/webhooktaskpayloads); other
    published samples of taskCommentPosted/taskCommentUpdated carry the blocks array itself under `comment`
    (activepieces' ClickUp triggers). Both are read."""
    comment = item.get("comment")
    if isinstance(comment, list):
        return {"comment": comment}
    return comment if isinstance(comment, dict) else {}


def _comment_id(item: dict[str, Any], comment: dict[str, Any]) -> str | None:
    """The comment's id: the item's `after` (a string, or a number) or the comment's own `id`."""
    for value in (comment.get("id"), item.get("after")):
        if value not in (None, "") and not isinstance(value, (dict, list, bool)):
            return str(value)
    return None


def comment_text(comment: dict[str, Any]) -> str:
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


def _digest(text: str | None) -> str:
    return hashlib.sha256(echo_marks.comment_text(text or "").encode()).hexdigest()[:12]


def record_own_comment(link: dict[str, Any], comment_id: str, text: str, date_ms: int) -> None:
    """The task pipeline posted this comment (ClickUp answered its id): its webhook is not news, an edit of it is."""
    comments = dict(link.get("comments") or {})
    state = dict(comments.get(comment_id) or {"d": 0, "h": "", "k": []})
    state.update({"a": True, "own": True})
    if int(date_ms) >= int(state.get("d") or 0):
        state["d"], state["h"] = int(date_ms), _digest(text)
    comments[comment_id] = state
    link["comments"] = comments


def comment_changes(comments: list[dict[str, Any]], link: dict[str, Any], date_ms: int) -> list[Change]:
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
        if state.get("h") not in {_digest(r) for r in renderings}:
            out.append(
                Change(
                    "comment",
                    text,
                    date_ms=max(date_ms, int(state.get("d") or 0) + 1),
                    key=f"read:{comment_id}#{_digest(text)}",
                    data={"comment_id": comment_id},
                    kind="updated",
                )
            )
    return out


# -- applying ------------------------------------------------------------------------------------------------
def handle(message: WebhookDelivery, remaining_s: Callable[[], float], delivery_id: str | None = None) -> None:
    """`delivery_id`: the queue message's id, the same on every receive (its outbox entries are its own)."""
    payload = message.payload
    event = str(payload.get("event") or "")
    if event.startswith(HIERARCHY_PREFIXES):
        _refresh_hierarchy(message, event)
        return
    task_id = payload.get("task_id")
    if not isinstance(task_id, str) or not is_clickup_id(task_id):  # never a key or a path to build from
        return
    items = payload.get("history_items") if isinstance(payload.get("history_items"), list) else []
    changes = changes_from_history(event, task_id, items or [])
    if not items and event in THIN_EVENTS and _linked(message.org_id, task_id):
        # the payload does not say what changed: read the task (through the organisation's budget)
        client = connection.client_for(message.org_id, remaining_s=remaining_s)
        changes = changes_from_task(client.get_task(task_id))
    apply_changes(message.org_id, task_id, changes, owner=delivery_id)


def _linked(org_id: str, task_id: str) -> bool:
    ref = ticket_links.find_by_task(task_id)
    return ref is not None and ref.get("org_id") == org_id


def apply_changes(org_id: str, task_id: str, changes: list[Change], owner: str | None = None) -> int:
    """Apply to the ticket linked to the task; the number of changes reported to the portal.

    The events a decision produces are written on the link (its outbox) in the same conditional write as the
    fields they report, then published (each under its change's key, so a change is recorded in the feed once)
    and taken out of the outbox. Two deliveries racing on one link cannot both report a change: the loser
    re-reads and finds the change held. Each outbox entry names its `owner` (the delivery's queue message) and
    a lease: another delivery leaves a live entry to its owner, who is publishing it; an entry of a dead
    publisher (its own message received again, or its lease over) is put on the bus again, the feed's record of
    it reused, so the portal's push never misses what the feed has."""
    if not changes:
        return 0
    ref = ticket_links.find_by_task(task_id)
    if ref is None or ref.get("org_id") != org_id:  # never another organisation's ticket
        metrics.add_metric(name="WebhookUnlinkedTask", unit="Count", value=1)
        return 0
    ticket_id = ref["ticket_id"]
    writer = _Writer(org_id)
    for _ in range(8):  # a concurrent writer moved the link: read it again and re-decide
        link = ticket_links.get(org_id, ticket_id)
        if link is None or link.get("task_id") != task_id:
            return 0
        before = {k: link.get(k) for k in ("state", "status", "priority", "due_date", "assignees", "list_id")}
        stored_dates: dict[str, int] = {k: int(v) for k, v in (link.get("field_dates") or {}).items()}
        stored_keys: dict[str, str] = dict(link.get("field_keys") or {})
        dates, keys = dict(stored_dates), dict(stored_keys)
        outbox: list[dict[str, Any]] = list(link.get("outbox") or [])
        stored_comments = link.get("comments") or {}
        comments: dict[str, Any] = {k: dict(v) for k, v in stored_comments.items()}
        pending, lease_until_ms = len(outbox), int(time.time() * 1000) + OUTBOX_LEASE_MS
        time_zone = None
        reported: set[str] = set()  # link fields set by a ClickUp user's change (not our echo): audited
        for change in sorted(changes, key=lambda c: c.date_ms):
            if not writer.may_be_ours(change):  # another ClickUp user's change is never our echo
                change = dataclasses.replace(change, data={**change.data, _NOT_OURS: True})
            if change.field == "comment":
                news = _comment_news(org_id, task_id, change, comments)
                if news is not None:
                    outbox.append({**news, "owner": owner, "lease_until": lease_until_ms})
                continue
            if change.field == "due_date" and time_zone is None:
                time_zone = _time_zone(org_id)
            field, known_since = _link_field(change.field), dates.get(change.field, 0)
            newer = change.date_ms >= known_since
            value = _link_value(change, link, time_zone)
            prior = link.get(field)  # what the bridge held before this change: its event's `previous`
            if _same(change.field, value, prior) and _reported_before(change, keys.get(change.field), known_since):
                continue
            echo = _is_echo(org_id, task_id, change, value)
            if change.field != "comment" and newer:
                link[field] = value if change.field != "deleted" else "deleted"
                dates[change.field], keys[change.field] = change.date_ms, change.key
                if not echo:
                    reported.add(field)
            if echo:
                metrics.add_metric(name="WebhookEchoSuppressed", unit="Count", value=1)
                continue
            news = _news(task_id, change, value, newer, prior)
            outbox.append({**news, "owner": owner, "lease_until": lease_until_ms})
        after = {k: link.get(k) for k in before}
        same = (dates, keys, comments) == (stored_dates, stored_keys, stored_comments)
        if after == before and same and len(outbox) == pending:
            return _flush(link, owner, fresh=set()) if pending else 0  # nothing new; a dead one's outbox
        link["field_dates"], link["field_keys"], link["outbox"] = dates, keys, outbox
        if comments:
            link["comments"] = comments
        if ticket_links.save(link):
            changed = {k: v for k, v in after.items() if before.get(k) != v and k in reported}
            if changed:
                audit.record(
                    org_id, ticket_id, changes[-1].actor, "clickup_changed", {k: before[k] for k in changed}, changed
                )
            return _flush(link, owner, fresh={_entry_id(news) for news in outbox[pending:]})
    raise RuntimeError("the ticket's link kept changing; the delivery will be retried")


def _reported_before(change: Change, field_key: str | None, known_since: int) -> bool:
    """Whether a change to the value the link holds was reported already (or is not news at all).

    - A task's state that the link holds says nothing new.
    - The change that set the field, delivered again, is a duplicate.
    - A sweep's (or thin payload's) state reported every change up to its date at once: a late webhook for one
      of them is not reported again. (A link written before keys were kept is read the same way.)
    - Otherwise an earlier change to the value a later one set is news of its own (reported as not current), and
      an older echo of the bridge's own write is told apart by the echo marks."""
    if change.key.startswith("state:") or change.key == field_key:
        return True
    if field_key is None or field_key.startswith("state:"):
        return change.date_ms <= known_since
    return False


def _flush(link: dict[str, Any], owner: str | None, fresh: set[tuple[Any, ...]]) -> int:
    """Publish the outbox entries this call wrote (`fresh`) and those of a dead publisher; leave live entries to
    their owner. The entries published are then taken out of the link's outbox, whoever wrote it since."""
    now_ms, published, done = int(time.time() * 1000), 0, set()
    for news in link.get("outbox") or []:
        entry = _entry_id(news)
        dead = (owner is not None and news.get("owner") == owner) or int(news.get("lease_until") or 0) <= now_ms
        if entry not in fresh and not dead:
            continue  # another delivery is publishing it
        event = publish(
            link["org_id"],
            news["type"],
            news["data"],
            ticket_id=link["ticket_id"],
            task_id=link["task_id"],
            dedup_key=news["key"],
            again=entry not in fresh,
        )
        published += event is not None
        done.add(entry)
    for _ in range(8):
        outbox = link.get("outbox") or []
        link["outbox"] = [news for news in outbox if _entry_id(news) not in done]
        if len(link["outbox"]) == len(outbox) or ticket_links.save(link):
            return published
        current = ticket_links.get(link["org_id"], link["ticket_id"])
        if current is None:
            return published
        link.clear()
        link.update(current)
    return published  # still contended: what is left is put on the bus again later (the same event id)


def _entry_id(news: dict[str, Any]) -> tuple[Any, ...]:
    return news["key"], news.get("owner"), news.get("lease_until")


def _link_field(name: str) -> str:
    return "state" if name == "deleted" else name


def _same(field: str, value: Any, prior: Any) -> bool:
    """Whether ClickUp's value is the one the link holds: dates as instants or days (`render.same_due_date`: a
    link written before dates were stored canonically may hold `...-02:00` for ClickUp's `...Z`), else equal."""
    if field == "due_date":
        return render.same_due_date(value, prior)
    return bool(value == prior)


def _link_value(change: Change, link: dict[str, Any], time_zone: str | None) -> Any:
    if change.field == "assignees":
        if "set" in change.value:
            return sorted(int(a) for a in change.value["set"])
        current = {int(a) for a in link.get("assignees") or []}
        if "add" in change.value:
            current.add(int(change.value["add"]))
        if "rem" in change.value:
            current.discard(int(change.value["rem"]))
        return sorted(current)
    if change.field == "due_date":
        date_only = isinstance(link.get("due_date"), str) and len(link["due_date"]) == 10
        return render.due_date_text(change.value, not date_only, time_zone)
    return change.value


_NOT_OURS = "_not_ours"  # set on a change whose ClickUp user is not the one the bridge writes as (never sent on)


class _Writer:
    """Who the bridge writes to ClickUp as: the connected ClickUp user (the owner of the organisation's token). A
    history item names the user who made the change (ClickUp's webhook payloads: `history_items[].user`); a change
    by another user cannot be the echo of our write, whatever its value (a colleague setting the value we wrote a
    minute ago is news). Read once per delivery, when a change names a user."""

    def __init__(self, org_id: str) -> None:
        self._org_id = org_id
        self._actor: str | None = None
        self._read = False

    def may_be_ours(self, change: Change) -> bool:
        if not change.actor.startswith("clickup:user:"):
            return True  # ClickUp names nobody (the sweep, a task read back): decided by value
        if not self._read:
            self._read = True
            user_id = (connection.current(self._org_id).user or {}).get("id")
            self._actor = f"clickup:user:{user_id}" if user_id is not None else None
        return self._actor is None or change.actor == self._actor


def _is_echo(org_id: str, task_id: str, change: Change, value: Any) -> bool:
    """Whether the change is ClickUp's echo of a value the task pipeline wrote, compared in ClickUp's rendering of
    it (echo_marks.canonical: status case, priority forms, dates as ClickUp rounds them, ids as numbers or
    strings). Never for a change made by another ClickUp user than the one the bridge writes as (`_Writer`)."""
    if change.data.get(_NOT_OURS):
        return False
    if change.field == "assignees":  # ClickUp reports each assignee apart; we wrote whole sets
        written = [{int(u) for u in users} for users in echo_marks.written(org_id, task_id, "assignees")]
        if "set" in change.value:
            return set(value) in written
        user = int(change.value.get("add", change.value.get("rem")))
        return any((user in users) == ("add" in change.value) for users in written)
    if change.field == "due_date":
        return echo_marks.is_echo(org_id, task_id, "due_date", change.value)  # ms, before it is rendered
    if change.field in ("status", "priority"):
        return echo_marks.is_echo(org_id, task_id, change.field, value)
    return False


def _comment_news(org_id: str, task_id: str, change: Change, comments: dict[str, Any]) -> dict[str, Any] | None:
    """The portal event a comment's history item is worth, given what the link knows of the comment (`comments`,
    updated in place: per comment id `d` the date and `h` the text digest of the newest version seen, `a` its
    addition seen, `x` deleted, `own` posted by the bridge, `k` the history keys handled).

    - A comment is added once: a re-send, and the generic taskUpdated beside the granular event, are the same
      history key; a second "posted" for a comment whose addition was seen is not a second comment.
    - An edit (taskCommentUpdated) is `comment_updated` with the comment id and the new text, also when it arrives
      before the comment's addition (which is then reported as added, not current); each distinct edit once.
    - The generic taskUpdated alone cannot tell an addition from an edit: a comment not known is added, a known
      one with other text was edited, a known one with the same text is a copy.
    - Our own comment (the pipeline's marks: the id ClickUp answered, or the text before the answer arrived) is
      recorded, not reported; a ClickUp user's edit of it is reported like any edit."""
    comment_id = str(change.data["comment_id"])
    state = comments.get(comment_id)
    digest = _digest(change.value) if change.kind != "deleted" else ""
    if state is not None and change.key in (state.get("k") or []):
        return None  # handled: a re-send, or the generic copy of a granular event
    fresh = state is None
    state = state if state is not None else {"d": 0, "h": "", "a": False, "k": []}
    comments[comment_id] = state
    state["k"] = [*(state.get("k") or []), change.key][-COMMENT_KEYS_KEPT:]
    kind = change.kind
    if kind == "deleted":
        if state.get("x"):
            return None
        state["x"] = True
        return _comment_event(task_id, change, "deleted", current=True)
    if kind == "generic":
        if fresh or not state.get("a"):
            kind = "posted"
        elif digest != state.get("h"):
            kind = "updated"
        else:
            return None
    current = change.date_ms >= int(state.get("d") or 0)
    if kind == "posted":
        if state.get("a"):
            return None  # its addition was seen (or was ours): not a second comment
        state["a"] = True
        if current:
            state["d"], state["h"] = change.date_ms, digest
        if _own_comment(org_id, task_id, comment_id, change.value, bool(change.data.get(_NOT_OURS))):
            state["own"] = True
            metrics.add_metric(name="WebhookEchoSuppressed", unit="Count", value=1)
            return None
        return _comment_event(task_id, change, "added", current=current)
    if state.get("d") == change.date_ms and state.get("h") == digest:
        return None  # this version was seen (under another history key)
    if current:
        state["d"], state["h"] = change.date_ms, digest
    return _comment_event(task_id, change, "updated", current=current)


def _own_comment(org_id: str, task_id: str, comment_id: str, text: str | None, not_ours: bool = False) -> bool:
    """Our own comment: the id ClickUp answered for our post, or (before that answer arrived) its text, the latter
    only when the comment's author is the user the bridge writes as (`not_ours`: another user's comment with the
    same text is a new comment)."""
    if echo_marks.is_echo(org_id, task_id, "comment_id", comment_id):
        return True
    return not not_ours and echo_marks.is_echo(org_id, task_id, "comment", text or "")


def _comment_event(task_id: str, change: Change, what: str, current: bool) -> dict[str, Any]:
    """A comment's event in its type's one shape (bridge.events.models)."""
    common: dict[str, Any] = {
        "comment_id": str(change.data["comment_id"]),
        "changed_at": _iso(change.date_ms),
        "by": change.actor,
        "current": current,
    }
    data: events.EventData
    if what == "deleted":
        data = events.CommentDeleted(**common)
    elif what == "updated":
        data = events.CommentUpdated(**common, text=change.value)
    else:
        data = events.CommentAdded(**common, text=change.value)
    return {
        "type": COMMENT_EVENT_TYPES[what],
        "data": data.model_dump(mode="json", exclude_none=what != "added"),
        "key": f"{task_id}|{change.key}|comment:{what}",
    }


def _news(task_id: str, change: Change, value: Any, newer: bool, prior: Any = None) -> dict[str, Any]:
    """The portal event a ClickUp user's change is worth, in its type's one shape (bridge.events.models) whatever
    found it: `previous` is ClickUp's `before` when its webhook gives one (status), else `prior`, the value the
    bridge held for the field when the change was applied (so the sweep's events carry it too)."""
    common: dict[str, Any] = {"changed_at": _iso(change.date_ms), "by": change.actor, "current": newer}
    # current False: an older change that arrived after a newer one (the link kept the newer)
    data: events.EventData
    if change.field == "status":
        data = events.StatusChanged(**common, status=value, previous=change.data.get("previous", prior))
    elif change.field == "priority":
        data = events.PriorityChanged(**common, priority=value, previous=prior)
    elif change.field == "due_date":
        data = events.DueDateChanged(**common, due_date=value, previous=prior)
    elif change.field == "assignees":
        before = sorted(int(a) for a in prior or [])
        if "set" in change.value:
            added, removed = sorted(set(value) - set(before)), sorted(set(before) - set(value))
        else:
            added = [int(change.value["add"])] if "add" in change.value else []
            removed = [int(change.value["rem"])] if "rem" in change.value else []
        data = events.AssigneesChanged(**common, assignees=value, added=added, removed=removed, previous=before)
    elif change.field == "list_id":
        data = events.Moved(**common, list_id=value, previous=prior)
    elif change.field == "comment":
        data = events.CommentAdded(**common, comment_id=str(change.data.get("comment_id")), text=value)
    else:
        data = events.TaskDeleted(**common)
    return {
        "type": EVENT_TYPES[change.field],
        "data": data.model_dump(mode="json"),
        "key": f"{task_id}|{change.key}|{change.field}",
    }


def _time_zone(org_id: str) -> str | None:
    return connection.time_zone(org_settings.recent(org_id), connection.current(org_id))


def _iso(ms: int) -> str | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _refresh_hierarchy(message: WebhookDelivery, event: str) -> None:
    from bridge.sync import service as sync

    payload = message.payload
    sync.send(
        {
            "kind": "refresh",
            "org_id": message.org_id,
            "workspace_id": str(payload.get("team_id") or message.workspace_id),
            "space_id": _str_or_none(payload.get("space_id")),
            "folder_id": _str_or_none(payload.get("folder_id")),
            "list_id": _str_or_none(payload.get("list_id")),
            "deleted": event.endswith("Deleted"),
        }
    )
    logger.info("hierarchy change handed to the space sync", extra={"org_id": message.org_id, "event": event})


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
