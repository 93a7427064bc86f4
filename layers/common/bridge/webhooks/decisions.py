"""What ClickUp's changes do to a ticket's link (pure: no I/O, no AWS or HTTP code).

The inputs are the link as read (its fields, the ClickUp date and key of each field's last applied change, what it
knows of the task's comments), the changes (`bridge.webhooks.changes`), and the answers the echo marks give; the
output is a `LinkDecision`: the link's new fields, dates and keys, and the portal events (news) to report.

- **Order**: each field keeps the ClickUp date of its last applied change; a change older than it never overwrites
  the field (it is still reported, as not `current`). Equal dates apply (the later delivery wins).
- **Duplicate**: a change to the value the link holds that was reported already (its key is the field's key, a
  task's state read back, or a webhook older than a state read back) changes nothing.
- **Echo**: the change is ClickUp's echo of a value the bridge wrote (the echo marks): it updates the link but is
  neither news nor a ClickUp user's change in the audit trail. A change made by another ClickUp user than the one
  the bridge writes as is never an echo. The echo of an older write, after a newer change, changes nothing.
- **News**: anything else is a portal event in its type's one shape (`bridge.events.models`).

The echo marks are read only when a change needs them (each read is a DynamoDB call): `echo` and `own_comment` are
asked, not read beforehand."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

from bridge.events import models as events
from bridge.tasks import render
from bridge.webhooks.changes import Change, digest

LINK_FIELDS = ("state", "status", "priority", "due_date", "assignees", "list_id")
NOT_OURS = "_not_ours"  # set on a change whose ClickUp user is not the one the bridge writes as (never sent on)
COMMENT_KEYS_KEPT = 20  # per comment: the history keys already handled (re-sends, the generic copy)
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

# -- whose change ----------------------------------------------------------------------------------------------


def names_a_user(changes: Iterable[Change]) -> bool:
    """Whether any change names the ClickUp user who made it (then who the bridge writes as must be known)."""
    return any(change.actor.startswith("clickup:user:") for change in changes)


def mark_authors(changes: Iterable[Change], writer: str | None) -> list[Change]:
    """The changes, those made by another ClickUp user than `writer` (`clickup:user:{id}`, the owner of the
    organisation's token; None: unknown) marked `NOT_OURS`: a colleague setting the value we wrote a minute ago is
    news, never our echo. A change naming nobody (the sweep, a task read back) is decided by value."""
    out = []
    for change in changes:
        named = change.actor.startswith("clickup:user:")
        if named and writer is not None and change.actor != writer:
            change = dataclasses.replace(change, data={**change.data, NOT_OURS: True})
        out.append(change)
    return out


# -- one field -------------------------------------------------------------------------------------------------


def link_field(name: str) -> str:
    """The link field a change's field writes (`deleted` → `state`)."""
    return "state" if name == "deleted" else name


def link_value(change: Change, fields: Mapping[str, Any], time_zone: str | None) -> Any:
    """The value the change gives the link field, given the link's `fields` now: assignees added to or removed
    from the set held (or the set read), a due date (ms) rendered as the link keeps it (a day when it held a day,
    else an instant; `time_zone` for the day), else the change's value."""
    if change.field == "assignees":
        if "set" in change.value:
            return sorted(int(a) for a in change.value["set"])
        current = {int(a) for a in fields.get("assignees") or []}
        if "add" in change.value:
            current.add(int(change.value["add"]))
        if "rem" in change.value:
            current.discard(int(change.value["rem"]))
        return sorted(current)
    if change.field == "due_date":
        held = fields.get("due_date")
        date_only = isinstance(held, str) and len(held) == 10
        return render.due_date_text(change.value, not date_only, time_zone)
    return change.value


def same_value(field: str, value: Any, prior: Any) -> bool:
    """Whether ClickUp's value is the one the link holds: dates as instants or days (`render.same_due_date`: a
    link written before dates were stored canonically may hold `...-02:00` for ClickUp's `...Z`), else equal."""
    if field == "due_date":
        return render.same_due_date(value, prior)
    return bool(value == prior)


def reported_before(change: Change, field_key: str | None, known_since: int) -> bool:
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


@dataclass(frozen=True)
class FieldDecision:
    """What one change does to its link field.

    - `verdict`: `duplicate` (nothing), `echo` (our own write: applied if not older, never reported), `news`;
    - `apply`: the field takes the value (the change is not older than the field's last applied change);
    - `current`: the change is the field's newest (False: an older change arriving after a newer one)."""

    verdict: Literal["duplicate", "echo", "news"]
    apply: bool = False
    current: bool = False


def decide_field(
    change: Change, value: Any, prior: Any, known_since: int, field_key: str | None, echo: Callable[[], bool]
) -> FieldDecision:
    """Decide a change of a link field (not a comment). `value`: `link_value` of it; `prior`: what the link holds;
    `known_since`: the ClickUp date (ms) of the field's last applied change (0: none); `field_key`: that change's
    key (None: none kept); `echo()`: whether the echo marks hold the value (asked only when the change is not a
    duplicate nor made by another ClickUp user)."""
    if same_value(change.field, value, prior) and reported_before(change, field_key, known_since):
        return FieldDecision("duplicate")
    newer = change.date_ms >= known_since
    ours = not change.data.get(NOT_OURS) and change.field in ("status", "priority", "due_date", "assignees")
    return FieldDecision("echo" if ours and echo() else "news", apply=newer, current=newer)


def assignees_echo(change_value: Mapping[str, Any], value: list[int], written: Iterable[Iterable[Any]]) -> bool:
    """Whether an assignees change is the echo of sets the bridge wrote (`written`: each a set of ids, any form).
    A whole set read back is an echo when it is one we wrote; ClickUp reports each assignee added or removed apart
    (`assignee_add` / `assignee_rem`), so one is an echo when a set we wrote has (add) or lacks (rem) that user."""
    sets = [{int(u) for u in users} for users in written]
    if "set" in change_value:
        return set(value) in sets
    user = int(change_value.get("add", change_value.get("rem")))
    return any((user in users) == ("add" in change_value) for users in sets)


# -- one comment -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentDecision:
    """What a comment's change is worth: `handled` (nothing: a re-send, a copy, a version seen), `own` (the
    bridge's own comment: recorded, not reported), or the portal event `added` / `updated` / `deleted`; `current`:
    the newest version known of the comment. `state`: the comment's new state on the link (see `decide_comment`)."""

    verdict: Literal["handled", "own", "added", "updated", "deleted"]
    state: dict[str, Any]
    current: bool = True


def decide_comment(
    change: Change, state: Mapping[str, Any] | None, own: Callable[[str, str | None, bool], bool]
) -> CommentDecision:
    """Decide a comment's change given what the link knows of the comment (`state`: `d` the date and `h` the text
    digest of the newest version seen, `a` its addition seen, `x` deleted, `own` posted by the bridge, `k` the
    history keys handled; None: unknown). `own(comment_id, text, not_ours)`: the echo marks' answer, asked only
    for a first addition.

    - A comment is added once: a re-send, and the generic taskUpdated beside the granular event, are the same
      history key; a second "posted" for a comment whose addition was seen is not a second comment.
    - An edit (taskCommentUpdated) is `updated` with the new text, also when it arrives before the comment's
      addition (which is then reported as added, not current); each distinct edit once.
    - The generic taskUpdated alone cannot tell an addition from an edit: a comment not known is added, a known
      one with other text was edited, a known one with the same text is a copy.
    - Our own comment is recorded, not reported; a ClickUp user's edit of it is reported like any edit."""
    text_digest = digest(change.value) if change.kind != "deleted" else ""
    if state is not None and change.key in (state.get("k") or []):
        return CommentDecision("handled", dict(state))
    new: dict[str, Any] = dict(state) if state is not None else {"d": 0, "h": "", "a": False, "k": []}
    new["k"] = [*(new.get("k") or []), change.key][-COMMENT_KEYS_KEPT:]
    kind = _comment_kind(change.kind, new, fresh=state is None, text_digest=text_digest)
    if kind == "handled":
        return CommentDecision("handled", new)
    if kind == "deleted":
        new["x"] = True
        return CommentDecision("deleted", new)
    current = change.date_ms >= int(new.get("d") or 0)
    if kind == "posted":
        return _posted(change, new, current, text_digest, own)
    if new.get("d") == change.date_ms and new.get("h") == text_digest:
        return CommentDecision("handled", new)  # this version was seen (under another history key)
    if current:
        new["d"], new["h"] = change.date_ms, text_digest
    return CommentDecision("updated", new, current=current)


def _comment_kind(kind: str, state: Mapping[str, Any], fresh: bool, text_digest: str) -> str:
    """`posted` / `updated` / `deleted`, or `handled` (a deletion seen, a generic copy of the version known); the
    generic taskUpdated read against what the link knows of the comment."""
    if kind == "deleted":
        return "handled" if state.get("x") else "deleted"
    if kind != "generic":
        return kind
    if fresh or not state.get("a"):
        return "posted"
    return "updated" if text_digest != state.get("h") else "handled"


def _posted(
    change: Change,
    state: dict[str, Any],
    current: bool,
    text_digest: str,
    own: Callable[[str, str | None, bool], bool],
) -> CommentDecision:
    if state.get("a"):
        return CommentDecision("handled", state)  # its addition was seen (or was ours): not a second comment
    state["a"] = True
    if current:
        state["d"], state["h"] = change.date_ms, text_digest
    if own(str(change.data["comment_id"]), change.value, bool(change.data.get(NOT_OURS))):
        state["own"] = True
        return CommentDecision("own", state)
    return CommentDecision("added", state, current=current)


# -- the events ------------------------------------------------------------------------------------------------


def iso(ms: int) -> str | None:
    """ms since 1970 (UTC) as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`; 0 (unknown) → None."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def comment_event(task_id: str, change: Change, what: str, current: bool) -> dict[str, Any]:
    """A comment's event `{"type", "data", "key"}` in its type's one shape (bridge.events.models)."""
    common: dict[str, Any] = {
        "comment_id": str(change.data["comment_id"]),
        "changed_at": iso(change.date_ms),
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


def news(task_id: str, change: Change, value: Any, newer: bool, prior: Any = None) -> dict[str, Any]:
    """The portal event `{"type", "data", "key"}` a ClickUp user's change is worth, in its type's one shape
    (bridge.events.models) whatever found it: `previous` is ClickUp's `before` when its webhook gives one (status),
    else `prior`, the value the bridge held for the field when the change was applied (so the sweep's events carry
    it too). `newer` False: an older change that arrived after a newer one (the link kept the newer)."""
    common: dict[str, Any] = {"changed_at": iso(change.date_ms), "by": change.actor, "current": newer}
    data: events.EventData
    if change.field == "status":
        data = events.StatusChanged(**common, status=value, previous=change.data.get("previous", prior))
    elif change.field == "priority":
        data = events.PriorityChanged(**common, priority=value, previous=prior)
    elif change.field == "due_date":
        data = events.DueDateChanged(**common, due_date=value, previous=prior)
    elif change.field == "assignees":
        data = _assignees_changed(common, change, value, prior)
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


def _assignees_changed(common: dict[str, Any], change: Change, value: Any, prior: Any) -> events.AssigneesChanged:
    before = sorted(int(a) for a in prior or [])
    if "set" in change.value:
        added, removed = sorted(set(value) - set(before)), sorted(set(before) - set(value))
    else:
        added = [int(change.value["add"])] if "add" in change.value else []
        removed = [int(change.value["rem"])] if "rem" in change.value else []
    return events.AssigneesChanged(**common, assignees=value, added=added, removed=removed, previous=before)


# -- a link ----------------------------------------------------------------------------------------------------


@dataclass
class LinkDecision:
    """What a batch of changes does to a link as read.

    - `fields`: the link's fields (`LINK_FIELDS`) after the changes (`state` `deleted` when the task was);
    - `field_dates` / `field_keys`: per change field, the ClickUp date (ms) and key of its last applied change;
    - `comments`: per comment id, what the link knows of it (`decide_comment`);
    - `news`: the portal events to report, `{"type", "data", "key"}` each, in the changes' date order;
    - `reported`: the link fields a ClickUp user's change set (not our echo): audited as `clickup_changed`;
    - `echoes`: the changes recognised as the bridge's own writes (counted, not reported);
    - `changed`: whether anything is to be written (False: the link already holds all of it)."""

    fields: dict[str, Any]
    field_dates: dict[str, int]
    field_keys: dict[str, str]
    comments: dict[str, Any]
    news: list[dict[str, Any]]
    reported: set[str]
    echoes: int
    changed: bool


def decide_link(
    link: Mapping[str, Any],
    changes: Iterable[Change],
    *,
    task_id: str,
    time_zone: str | None,
    echo: Callable[[Change, Any], bool],
    own_comment: Callable[[str, str | None, bool], bool],
) -> LinkDecision:
    """Apply `changes` (in ClickUp's date order; equal dates keep their order) to the link as read (`link`: its
    fields, `field_dates`, `field_keys`, `comments`). `echo(change, value)`: whether the echo marks hold the value
    the change sets; `own_comment(comment_id, text, not_ours)`: whether a comment is the bridge's own. Neither is
    asked for a duplicate. `time_zone`: the workspace's (due dates kept as days)."""
    fields = {k: link.get(k) for k in LINK_FIELDS}
    stored_dates = {k: int(v) for k, v in (link.get("field_dates") or {}).items()}
    stored_keys = dict(link.get("field_keys") or {})
    stored_comments = link.get("comments") or {}
    dates, keys = dict(stored_dates), dict(stored_keys)
    comments: dict[str, Any] = {k: dict(v) for k, v in stored_comments.items()}
    out: list[dict[str, Any]] = []
    reported: set[str] = set()
    echoes = 0
    for change in sorted(changes, key=lambda c: c.date_ms):
        if change.field == "comment":
            decided = decide_comment(change, comments.get(str(change.data["comment_id"])), own_comment)
            comments[str(change.data["comment_id"])] = decided.state
            echoes += decided.verdict == "own"
            if decided.verdict in ("added", "updated", "deleted"):
                out.append(comment_event(task_id, change, decided.verdict, current=decided.current))
            continue
        field, known_since = link_field(change.field), dates.get(change.field, 0)
        value = link_value(change, fields, time_zone)
        prior = fields.get(field)  # what the bridge held before this change: its event's `previous`
        decision = decide_field(change, value, prior, known_since, keys.get(change.field), partial(echo, change, value))
        if decision.verdict == "duplicate":
            continue
        if decision.apply:
            fields[field] = value if change.field != "deleted" else "deleted"
            dates[change.field], keys[change.field] = change.date_ms, change.key
            if decision.verdict == "news":
                reported.add(field)
        if decision.verdict == "echo":
            echoes += 1
            continue
        out.append(news(task_id, change, value, decision.current, prior))
    before = {k: link.get(k) for k in LINK_FIELDS}
    same = (dates, keys, comments) == (stored_dates, stored_keys, stored_comments)
    changed = not (fields == before and same and not out)
    return LinkDecision(fields, dates, keys, comments, out, reported, echoes, changed)
