"""The portal's side of the task pipeline: accept a ticket (one link per ticket, whatever the retries), accept
changes and comments in order, re-queue a failed creation, and show a link."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bridge.connection import service as connection
from bridge.core.clock import utc_now_iso
from bridge.core.config import settings
from bridge.core.errors import Conflict, DependencyUnavailable, NotFound, Unprocessable
from bridge.core.observability import logger, metrics
from bridge.core.principal import Principal
from bridge.queueing import producer
from bridge.queueing.messages import TaskApply, TaskCreate
from bridge.repositories import assignments, audit, members, org_settings, ticket_links, ticket_ops
from bridge.repositories.table import Done, versioned_update
from bridge.repositories.ticket_links import CREATED, CREATING, FAILED, QUEUED
from bridge.tasks import mapping

STUCK_AFTER_S = 15 * 60  # a queued/creating link unchanged this long may be retried (see _stuck)
VIEW_FIELDS = ("task_id", "task_url", "list_id", "status", "priority", "assignees", "due_date", "updated_at")


def _send_create(link: dict[str, Any], dedup: str | None = None) -> None:
    """Queue the link's creation: deduplicated by `create-{ticket_id}-{generation}` unless `dedup` is given (see
    `bridge.queueing.producer`)."""
    generation = int(link.get("generation", 1))
    producer.enqueue(
        TaskCreate(kind="create", org_id=link["org_id"], ticket_id=link["ticket_id"], generation=generation),
        dedup=dedup,
    )


def view(link: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"state": link["state"], "ticket_id": link["ticket_id"]}
    out.update({k: link.get(k) for k in VIEW_FIELDS})
    out["assignees"] = link.get("assignees") or []
    if link.get("error"):
        out["error"] = link["error"]
    out["pending_changes"] = int(link.get("op_seq", 0)) - int(link.get("ops_applied", 0))
    return out


def history(org_id: str, ticket_id: str) -> dict[str, Any]:
    if ticket_links.get(org_id, ticket_id) is None:
        raise NotFound("this ticket has no ClickUp task", code="ticket_task_not_found")
    entries = [
        {
            "at": datetime.fromtimestamp(int(row["at_ms"]) / 1000, UTC).isoformat().replace("+00:00", "Z"),
            "actor": row["actor"],
            "action": row["action"],
            "before": row.get("before") or {},
            "after": row.get("after") or {},
        }
        for row in audit.trail(org_id, ticket_id)
    ]
    return {"ticket_id": ticket_id, "entries": entries}


def get_view(org_id: str, ticket_id: str) -> dict[str, Any]:
    link = ticket_links.get(org_id, ticket_id)
    if link is None:
        raise NotFound("this ticket has no ClickUp task", code="ticket_task_not_found")
    return view(link)


def request_creation(principal: Principal, ticket_id: str, ticket: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """202 with a new link, or 200 with the existing one (a duplicate POST never queues a second creation).

    The portal's POST is latency-sensitive: the settings and connection are this container's recent reads (the
    worker checks the connection again), the link and its first audit row go in one conditional transaction, then
    the message. Should the queue refuse, the link is removed again and the POST
    answers 503: nothing is left accepted but unqueued."""
    org_id = principal.org_id
    value, _conn = connection.require_connected(org_id, recent=True)
    unmapped = sorted(set(ticket.get("fields") or {}) - set(value.field_mapping))
    if unmapped:  # confirmed on the stored settings (an admin may have just mapped them, from another function)
        value = org_settings.get(org_id)
        unmapped = sorted(set(ticket.get("fields") or {}) - set(value.field_mapping))
    if unmapped:
        shown = ", ".join(repr(name[:128]) for name in unmapped[:20]) + (" …" if len(unmapped) > 20 else "")
        raise Unprocessable(
            f"{len(unmapped)} portal field(s) without a ClickUp field mapping: {shown}", code="field_not_mapped"
        )
    now = utc_now_iso()
    link = {
        "state": QUEUED,
        "ticket": ticket,
        "generation": 1,
        "created_at": now,
        "updated_at": now,
        "priority": ticket["priority"],
        "due_date": ticket.get("due_date"),
    }
    first = audit.row(org_id, ticket_id, f"user:{principal.user_id}", "queued", {}, {"state": QUEUED})
    created = ticket_links.create(org_id, ticket_id, link, first)
    if created is None:
        existing = ticket_links.get(org_id, ticket_id)
        if existing is None:  # removed meanwhile because its queueing failed: the portal may POST again
            raise Conflict("the ticket's link changed meanwhile; try again", code="link_contention")
        if existing["state"] == QUEUED and not existing.get("attempt"):
            # A repeat heals a creation whose first answer was lost after the link was written (a 503 or a timeout
            # the portal retries): its message is sent again under the same deduplication id (task-create.fifo
            # keeps one within 5 min) and the worker creates at most one task per link whatever it receives.
            try:
                _send_create(existing)
            except Exception as exc:
                raise DependencyUnavailable(
                    "the task queue is unavailable; try again", code="queue_unavailable"
                ) from exc
        return 200, view(existing)
    try:
        _send_create(created)
    except Exception as exc:
        ticket_links.delete(org_id, ticket_id)
        logger.exception("task queue unavailable: ticket not accepted", extra={"ticket_id": ticket_id})
        raise DependencyUnavailable("the task queue is unavailable; try again", code="queue_unavailable") from exc
    metrics.add_metric(name="TicketsAccepted", unit="Count", value=1)
    return 202, view(created)


def _accept_op(principal: Principal, ticket_id: str, op: dict[str, Any]) -> dict[str, Any]:
    org_id = principal.org_id
    value, conn = connection.require_connected(org_id, recent=True)
    link = ticket_links.get(org_id, ticket_id)
    if link is None:
        raise NotFound("this ticket has no ClickUp task", code="ticket_task_not_found")
    if link["state"] == "deleted":
        raise Conflict("the ClickUp task of this ticket was deleted", code="task_deleted")
    if op["kind"] == "update" and op.get("status") and link.get("list_id"):
        try:
            mapping.clickup_status(org_id, link["list_id"], op["status"], value, conn)  # 422 now
        except Unprocessable:  # confirmed on the stored settings (an admin may have just mapped it)
            mapping.clickup_status(org_id, link["list_id"], op["status"], org_settings.get(org_id), conn)
    seq = ticket_links.next_op_seq(org_id, ticket_id)
    ticket_ops.add(org_id, ticket_id, seq, {**op, "actor": f"user:{principal.user_id}"})
    producer.enqueue(TaskApply(kind="apply", org_id=org_id, ticket_id=ticket_id, seq=seq))  # op-{ticket_id}-{seq}
    logger.info("ticket change accepted", extra={"org_id": org_id, "ticket_id": ticket_id, "seq": seq})
    return view(ticket_links.get(org_id, ticket_id) or link)


def request_update(principal: Principal, ticket_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Accept a change (`changes`: the fields the portal sent, null included). A field absent is left alone;
    null clears priority and due date; assignees null means nobody (as `[]`); status cannot be cleared (a ClickUp
    task always has one: 422 `status_not_clearable`). Assignees must be members of the task's workspace
    (422 `assignee_not_member`), so nothing is accepted that ClickUp would leave undone."""
    if not changes:
        raise Unprocessable("nothing to change", code="empty_change")
    if "status" in changes and changes["status"] is None:
        raise Unprocessable("a ClickUp task always has a status: it cannot be cleared", code="status_not_clearable")
    if "assignees" in changes:
        changes = {**changes, "assignees": sorted({int(a) for a in changes["assignees"] or []})}
        _check_members(principal.org_id, ticket_id, changes["assignees"])
    return _accept_op(principal, ticket_id, {"kind": "update", **changes})


def _check_members(org_id: str, ticket_id: str, user_ids: list[int]) -> None:
    """422 `assignee_not_member` for a user id that is not a member of the task's workspace (the cached members
    of `GET /team`, see repositories.members); the workspace is the customer's assigned one, else any authorized
    one. Members never read: ClickUp's answer decides (the worker
    reports an assignee it did not take as `clickup.task.change_failed`)."""
    if not user_ids:
        return
    link = ticket_links.get(org_id, ticket_id)
    if link is None:
        return  # 404 from _accept_op
    _, conn = connection.require_connected(org_id, recent=True)
    candidates = list(conn.authorized_workspace_ids)
    # The customer's workspace (one read; the task's list is in it unless the assignment moved since), else any
    # authorized one: a member of another workspace passes here and ClickUp's answer is checked by the worker
    customer = assignments.get(org_id, str((link.get("ticket") or {}).get("customer_id") or ""))
    workspace = link.get("workspace_id") or (customer.get("workspace_id") if customer else None)  # linked: its own
    known: set[int] | None = None
    for ws in [workspace] if workspace in candidates else candidates:
        ids = members.get(org_id, str(ws))
        if ids is not None:
            known = (known or set()) | ids
    if known is None:
        return
    strangers = sorted(set(user_ids) - known)
    if strangers:
        raise Unprocessable(
            f"not members of the task's ClickUp workspace: {strangers}",
            code="assignee_not_member",
            details={"user_ids": strangers},
        )


def request_comment(principal: Principal, ticket_id: str, text: str) -> dict[str, Any]:
    return _accept_op(principal, ticket_id, {"kind": "comment", "text": text})


def retry(principal: Principal, ticket_id: str) -> dict[str, Any]:
    org_id = principal.org_id
    connection.require_connected(org_id)
    before: dict[str, Any] = {}

    def read() -> dict[str, Any]:
        link = ticket_links.get(org_id, ticket_id)
        if link is None:
            raise NotFound("this ticket has no ClickUp task", code="ticket_task_not_found")
        return link

    def change(link: dict[str, Any]) -> dict[str, Any] | Done:
        if link["state"] == CREATED and int(link.get("op_seq", 0)) > int(link.get("ops_applied", 0)):
            # changes that were given up on (an outage outlasted its bound): announced again, applied in order
            producer.enqueue(
                TaskApply(kind="apply", org_id=org_id, ticket_id=ticket_id), dedup=f"retry-{uuid.uuid4().hex}"
            )
            audit.record(org_id, ticket_id, f"user:{principal.user_id}", "retried", {}, {"pending_changes": True})
            return Done((view(link),))  # an answer without writing (a tuple: told apart from the link written)
        if not (link["state"] == FAILED or _stuck(link)):
            raise Conflict(f"only a failed creation can be retried (this one is {link['state']})", code="not_failed")
        before.update(state=link["state"], error=link.get("error"))
        link.update(state=QUEUED, error=None, generation=int(link.get("generation", 1)) + 1, updated_at=utc_now_iso())
        return link

    outcome = versioned_update(
        read,
        change,
        ticket_links.save,
        tries=5,
        contended=Conflict("the ticket's link changed meanwhile; try again", code="link_contention"),
    )
    if isinstance(outcome, tuple):
        answered: dict[str, Any] = outcome[0]
        return answered
    audit.record(org_id, ticket_id, f"user:{principal.user_id}", "retried", before, {"state": QUEUED})
    _send_create(outcome)
    return view(outcome)


def _stuck(link: dict[str, Any]) -> bool:
    """A creation that shows no progress: `queued`/`creating`, no live attempt lease, unchanged for
    `STUCK_AFTER_S`. Queuing it again is safe: the worker looks for the task an earlier attempt may have created."""
    if link["state"] not in (QUEUED, CREATING):
        return False
    attempt = link.get("attempt") or {}
    if float(attempt.get("lease_until", 0)) > time.time():
        return False
    updated = datetime.fromisoformat(str(link.get("updated_at") or link.get("created_at")).replace("Z", "+00:00"))
    return (datetime.now(UTC) - updated).total_seconds() >= STUCK_AFTER_S * settings().retry_time_scale


def resume(org_id: str) -> int:
    """After a reconnect: queue again what waited for the token (queued creations, accepted changes)."""
    count = 0
    for link in ticket_links.all_for(org_id):
        if link["state"] in (QUEUED, CREATING):
            _send_create(link, dedup=f"resume-{uuid.uuid4().hex}")  # the worker is idempotent
            count += 1
        elif link["state"] == CREATED and int(link.get("op_seq", 0)) > int(link.get("ops_applied", 0)):
            ticket_id = link["ticket_id"]
            producer.enqueue(
                TaskApply(kind="apply", org_id=org_id, ticket_id=ticket_id), dedup=f"resume-{uuid.uuid4().hex}"
            )
            count += 1
    return count
