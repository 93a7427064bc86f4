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

This module does the reading and writing; what a payload says is read by `bridge.webhooks.changes` and what a
change does to a link is decided by `bridge.webhooks.decisions` (both pure, unit-tested in `tests/unit/`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bridge.connection import service as connection
from bridge.core.observability import logger, metrics
from bridge.events.publisher import publish
from bridge.queueing import producer
from bridge.queueing.messages import SyncRefresh, WebhookDelivery
from bridge.repositories import audit, echo_marks, org_settings, ticket_links
from bridge.repositories.table import Done, versioned_update
from bridge.webhooks import decisions
from bridge.webhooks.changes import (  # noqa: F401 (this module's names before the pure ones moved out)
    HIERARCHY_PREFIXES,
    THIN_EVENTS,
    Change,
    _comment_id,
    _comment_of,
    changes_from_history,
    changes_from_task,
    comment_changes,
    comment_text,
    read_delivery,
    record_own_comment,
)

OUTBOX_LEASE_MS = 60_000  # far longer than a publication takes; shorter than a message's visibility timeout
LINK_TRIES = 8  # a concurrent writer moved the link: read it again and re-decide


# -- applying ------------------------------------------------------------------------------------------------
def handle(message: WebhookDelivery, remaining_s: Callable[[], float], delivery_id: str | None = None) -> None:
    """`delivery_id`: the queue message's id, the same on every receive (its outbox entries are its own)."""
    reading = read_delivery(message.payload)
    if reading.kind == "hierarchy":
        _refresh_hierarchy(message, reading.event)
        return
    if reading.task_id is None:  # never a key or a path to build from
        return
    task_id, changes = reading.task_id, list(reading.changes)
    if reading.needs_task_read and _linked(message.org_id, task_id):
        # the payload does not say what changed: read the task (through the organisation's budget)
        client = connection.client_for(message.org_id, remaining_s=remaining_s)
        changes = changes_from_task(client.get_task(task_id))
    apply_changes(message.org_id, task_id, changes, owner=delivery_id)


def _linked(org_id: str, task_id: str) -> bool:
    ref = ticket_links.find_by_task(task_id)
    return ref is not None and ref.get("org_id") == org_id


def apply_changes(org_id: str, task_id: str, changes: list[Change], owner: str | None = None) -> int:
    """Apply to the ticket linked to the task; the number of changes reported to the portal.

    What the changes do to the link is decided by `decisions.decide_link` on the link as read. The events a
    decision produces are written on the link (its outbox) in the same conditional write as the fields they
    report, then published (each under its change's key, so a change is recorded in the feed once) and taken out
    of the outbox. Two deliveries racing on one link cannot both report a change: the loser re-reads and finds the
    change held (`versioned_update`, LINK_TRIES reads; then RuntimeError: the delivery is retried). Each outbox
    entry names its `owner` (the delivery's queue message) and a lease: another delivery leaves a live entry to its
    owner, who is publishing it; an entry of a dead publisher (its own message received again, or its lease over)
    is put on the bus again, the feed's record of it reused, so the portal's push never misses what the feed has."""
    if not changes:
        return 0
    ref = ticket_links.find_by_task(task_id)
    if ref is None or ref.get("org_id") != org_id:  # never another organisation's ticket
        metrics.add_metric(name="WebhookUnlinkedTask", unit="Count", value=1)
        return 0
    update = _LinkUpdate(org_id, ref["ticket_id"], task_id, changes, owner)
    outcome = versioned_update(
        update.read,
        update.change,
        ticket_links.save,
        tries=LINK_TRIES,
        contended=RuntimeError("the ticket's link kept changing; the delivery will be retried"),
    )
    if isinstance(outcome, int):
        return outcome
    was, reported = update.audited
    if reported:
        audit.record(org_id, update.ticket_id, changes[-1].actor, "clickup_changed", was, reported)
    return _flush(outcome, owner, fresh={_entry_id(news) for news in update.fresh_entries})


class _LinkUpdate:
    """`apply_changes`' read and change for `versioned_update`: the link as read, the decision on it written back
    with its events in the outbox. Who the bridge writes as and the workspace's time zone are read once, on the
    first decision (only when a change needs them)."""

    def __init__(self, org_id: str, ticket_id: str, task_id: str, changes: list[Change], owner: str | None) -> None:
        self.org_id, self.ticket_id, self.task_id, self.owner = org_id, ticket_id, task_id, owner
        self.changes = changes
        self.time_zone: str | None = None
        self.prepared = False
        self.fresh_entries: list[dict[str, Any]] = []  # the outbox entries of the last write
        self.audited: tuple[dict[str, Any], dict[str, Any]] = ({}, {})  # fields a ClickUp user changed: before, after

    def read(self) -> dict[str, Any] | Done:
        link = ticket_links.get(self.org_id, self.ticket_id)
        return Done(0) if link is None or link.get("task_id") != self.task_id else link

    def _prepare(self) -> None:
        if self.prepared:
            return
        self.prepared = True
        if decisions.names_a_user(self.changes):  # another ClickUp user's change is never our echo
            self.changes = decisions.mark_authors(self.changes, _writer(self.org_id))
        if any(c.field == "due_date" for c in self.changes):
            self.time_zone = _time_zone(self.org_id)

    def change(self, link: dict[str, Any]) -> dict[str, Any] | Done:
        self._prepare()
        org_id, task_id = self.org_id, self.task_id
        decision = decisions.decide_link(
            link,
            self.changes,
            task_id=task_id,
            time_zone=self.time_zone,
            echo=lambda change, value: _is_echo(org_id, task_id, change, value),
            own_comment=lambda comment_id, text, not_ours: _own_comment(org_id, task_id, comment_id, text, not_ours),
        )
        for _ in range(decision.echoes):
            metrics.add_metric(name="WebhookEchoSuppressed", unit="Count", value=1)
        outbox: list[dict[str, Any]] = list(link.get("outbox") or [])
        if not decision.changed:
            return Done(_flush(link, self.owner, fresh=set()) if outbox else 0)  # nothing new; a dead one's outbox
        lease_until_ms = int(time.time() * 1000) + OUTBOX_LEASE_MS
        self.fresh_entries = [{**news, "owner": self.owner, "lease_until": lease_until_ms} for news in decision.news]
        before = {k: link.get(k) for k in decisions.LINK_FIELDS}
        changed = {k: v for k, v in decision.fields.items() if before[k] != v}
        link.update(changed)
        link["field_dates"], link["field_keys"] = decision.field_dates, decision.field_keys
        link["outbox"] = outbox + self.fresh_entries
        if decision.comments:
            link["comments"] = decision.comments
        reported = {k: v for k, v in changed.items() if k in decision.reported}
        self.audited = ({k: before[k] for k in reported}, reported)
        return link


def _flush(link: dict[str, Any], owner: str | None, fresh: set[tuple[Any, ...]]) -> int:
    """Publish the outbox entries this call wrote (`fresh`) and those of a dead publisher; leave live entries to
    their owner. The entries published are then taken out of the link's outbox, whoever wrote it since (8 tries;
    still contended: what is left is put on the bus again later, under the same event id)."""
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

    def read() -> dict[str, Any] | Done:
        current = ticket_links.get(link["org_id"], link["ticket_id"])
        return Done(published) if current is None else current

    def change(current: dict[str, Any]) -> dict[str, Any] | Done:
        outbox = current.get("outbox") or []
        kept = [news for news in outbox if _entry_id(news) not in done]
        if len(kept) == len(outbox):
            return Done(published)
        current["outbox"] = kept
        return current

    versioned_update(read, change, ticket_links.save, tries=8, contended=Done(published), held=link)
    return published


def _entry_id(news: dict[str, Any]) -> tuple[Any, ...]:
    return news["key"], news.get("owner"), news.get("lease_until")


def _writer(org_id: str) -> str | None:
    """Who the bridge writes to ClickUp as: the connected ClickUp user (the owner of the organisation's token), as
    `clickup:user:{id}`; None when unknown. A history item names the user who made the change (ClickUp's webhook
    payloads: `history_items[].user`); a change by another user cannot be the echo of our write
    (`decisions.mark_authors`). Read once per delivery, when a change names a user."""
    user_id = (connection.current(org_id).user or {}).get("id")
    return f"clickup:user:{user_id}" if user_id is not None else None


def _is_echo(org_id: str, task_id: str, change: Change, value: Any) -> bool:
    """Whether the echo marks hold the value a change sets, compared in ClickUp's rendering of it
    (echo_forms.canonical: status case, priority forms, dates as ClickUp rounds them, ids as numbers or strings).
    Asked by `decisions.decide_field` only for a change that may be ours."""
    if change.field == "assignees":  # ClickUp reports each assignee apart; we wrote whole sets
        return decisions.assignees_echo(change.value, value, echo_marks.written(org_id, task_id, "assignees"))
    if change.field == "due_date":
        return echo_marks.is_echo(org_id, task_id, "due_date", change.value)  # ms, before it is rendered
    if change.field in ("status", "priority"):
        return echo_marks.is_echo(org_id, task_id, change.field, value)
    return False


def _own_comment(org_id: str, task_id: str, comment_id: str, text: str | None, not_ours: bool = False) -> bool:
    """Our own comment: the id ClickUp answered for our post, or (before that answer arrived) its text, the latter
    only when the comment's author is the user the bridge writes as (`not_ours`: another user's comment with the
    same text is a new comment)."""
    if echo_marks.is_echo(org_id, task_id, "comment_id", comment_id):
        return True
    return not not_ours and echo_marks.is_echo(org_id, task_id, "comment", text or "")


def _time_zone(org_id: str) -> str | None:
    return connection.time_zone(org_settings.recent(org_id), connection.current(org_id))


def _refresh_hierarchy(message: WebhookDelivery, event: str) -> None:
    payload = message.payload
    producer.enqueue(
        SyncRefresh(
            kind="refresh",
            org_id=message.org_id,
            workspace_id=str(payload.get("team_id") or message.workspace_id),
            space_id=_str_or_none(payload.get("space_id")),
            folder_id=_str_or_none(payload.get("folder_id")),
            list_id=_str_or_none(payload.get("list_id")),
            deleted=event.endswith("Deleted"),
        )
    )
    logger.info("hierarchy change handed to the space sync", extra={"org_id": message.org_id, "event": event})


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
