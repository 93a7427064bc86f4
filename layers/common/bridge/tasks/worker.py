"""The task_create worker: a ticket becomes exactly one ClickUp task, then its accepted changes are applied in
order.

Exactly once, without an idempotency key at ClickUp: before calling ClickUp the worker records the attempt (its
list, when it started, and a lease that ends with this invocation). A later delivery that finds an attempt does
not know whether ClickUp created the task (a timeout, a lost response, the worker dying before its write), so it
first looks for it: a task named `[TICKET-{id}]` created in that list since the attempt started. Found: adopted.
Not found: nothing was created, and it creates. A live lease means another invocation is still on it: the record
is handed back until the lease ends. Answers that prove nothing was created (a 4xx, a 429, a spent budget) clear
the attempt."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from bridge.clickup.client import ClickUpClient
from bridge.clickup.errors import NotFound as ClickUpNotFound
from bridge.clickup.errors import Permanent, RateLimited, TokenRevoked, WorkspaceNotAuthorized
from bridge.clickup.models import Task
from bridge.connection import service as connection
from bridge.core.clock import utc_now_iso
from bridge.core.comment_marks import record_own_comment
from bridge.core.errors import Conflict, Unprocessable
from bridge.core.observability import logger, metrics
from bridge.events.models import ChangeFailed, FieldsFailed, TaskCreated, TaskFailed
from bridge.events.publisher import publish
from bridge.queueing.messages import TaskApply, TaskCreate
from bridge.repositories import assignments, audit, echo_marks, org_settings, ticket_links, ticket_ops
from bridge.repositories.org_settings import OrgSettings
from bridge.repositories.table import versioned_update
from bridge.repositories.ticket_links import CREATED, CREATING, FAILED, QUEUED
from bridge.tasks import mapping, render
from bridge.tasks.fields import FieldValueError, convert

SEARCH_SKEW_MS = 5 * 60 * 1000  # ClickUp's clock and ours may differ; a wider window only costs a page


class Busy(Exception):
    """Another invocation holds the ticket's attempt lease: retry when it ends."""

    def __init__(self, until: float) -> None:
        super().__init__("another invocation is creating this ticket's task")
        self.reset_at = until


class LinkGone(Exception):
    pass


class Work:
    """What one message needs, read once: the organisation's connection and settings, a client, the link."""

    def __init__(self, org_id: str, ticket_id: str, remaining_s: Callable[[], float]) -> None:
        self.org_id, self.ticket_id, self.remaining_s = org_id, ticket_id, remaining_s
        self.conn = connection.current(org_id)
        self.settings = org_settings.get(org_id)
        self._client: ClickUpClient | None = None
        link = ticket_links.get(org_id, ticket_id)
        if link is None:
            raise LinkGone()
        self.link = link

    @property
    def client(self) -> ClickUpClient:
        if self._client is None:
            self._client = connection.client_for(self.org_id, remaining_s=self.remaining_s, conn=self.conn)
        return self._client

    @property
    def time_zone(self) -> str | None:
        return connection.time_zone(self.settings, self.conn)


def handle(message: TaskCreate | TaskApply, remaining_s: Callable[[], float]) -> None:
    try:
        work = Work(message.org_id, message.ticket_id, remaining_s)
        if isinstance(message, TaskCreate):
            create(work)
        apply_pending(work)
    except TokenRevoked:
        # The link waits (queued) and the connection says needs_reauth; a reconnect queues it again.
        connection.token_revoked(message.org_id, "task pipeline")
    except Conflict as exc:  # needs re-auth or not connected: the work waits in the table for a reconnect
        logger.info("ticket work waits for a connection", extra={"ticket_id": message.ticket_id, "code": exc.code})
    except LinkGone:
        logger.info("ticket link gone (purged); nothing to do", extra={"ticket_id": message.ticket_id})


def give_up(message: TaskCreate | TaskApply, code: str, reason: str) -> None:
    """End a ticket's work visibly when its message will not be tried again (an outage outlasted its bound, or a
    poison message's last receive): a creation becomes `failed` with `code` and `clickup.task.failed` (the retry
    route queues it again; an attempt is kept, so the retry first looks for a task ClickUp may have created);
    changes still pending get `clickup.task.change_failed` (the retry route re-queues them). Never raises."""
    try:
        link = ticket_links.get(message.org_id, message.ticket_id)
        if link is None:
            return
        if isinstance(message, TaskCreate) and link["state"] in (QUEUED, CREATING):
            attempt = link.get("attempt")
            before = {"state": link["state"]}
            _save(
                link,
                state=FAILED,
                error={"code": code, "message": reason},
                attempt=attempt and {**attempt, "lease_until": 0},
            )
            audit.record(
                link["org_id"], link["ticket_id"], "worker", "failed", before, {"state": FAILED, "error": code}
            )
            publish(
                link["org_id"], "clickup.task.failed", {"code": code, "message": reason}, ticket_id=link["ticket_id"]
            )
            metrics.add_metric(name="TaskCreationFailed", unit="Count", value=1)
        elif link["state"] == CREATED and int(link.get("op_seq", 0)) > int(link.get("ops_applied", 0)):
            publish(
                link["org_id"],
                "clickup.task.change_failed",
                {
                    "code": code,
                    "message": reason,
                    "pending_changes": int(link["op_seq"]) - int(link.get("ops_applied", 0)),
                },
                ticket_id=link["ticket_id"],
                task_id=link.get("task_id"),
            )
    except Exception:  # noqa: BLE001 - the record still fails toward the DLQ (with its alarm)
        logger.exception("could not record that the ticket's work was given up", extra={"ticket_id": message.ticket_id})


# -- creation --------------------------------------------------------------------------------------------------
def _task_body(link: dict[str, Any], time_zone: str | None) -> dict[str, Any]:
    ticket = link["ticket"]
    body: dict[str, Any] = {
        "name": render.task_name(link["ticket_id"], ticket["title"]),
        "markdown_content": render.description(link["ticket_id"], ticket, link["created_at"]),
        "priority": render.PRIORITIES[ticket["priority"]],
    }
    if ticket.get("due_date"):
        body["due_date"], body["due_date_time"] = render.due_date_ms(ticket["due_date"], time_zone)
    tags = render.normalise_tags(ticket.get("tags") or [])  # also for tickets accepted before normalising
    if tags:
        body["tags"] = tags
    return body


def _save(link: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Apply `changes` to the freshest link (re-read on a concurrent write)."""
    return _save_with(link, lambda fresh: fresh.update(changes))


def _save_with(link: dict[str, Any], apply: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """`apply` the change to the link in hand and write it; after a lost race, to the link read again (`link` is
    updated in place: the caller holds the freshest). 10 tries, then RuntimeError; LinkGone when it was deleted."""

    def read() -> dict[str, Any]:
        fresh = ticket_links.get(link["org_id"], link["ticket_id"])
        if fresh is None:
            raise LinkGone()
        link.clear()
        link.update(fresh)
        return link

    def change(current: dict[str, Any]) -> dict[str, Any]:
        apply(current)
        current["updated_at"] = utc_now_iso()
        return current

    written: dict[str, Any] = versioned_update(
        read,
        change,
        ticket_links.save,
        tries=10,
        contended=RuntimeError("ticket link under contention"),
        held=link,
    )
    return written


def _save_written(link: dict[str, Any], written: dict[str, Any], date_ms: int) -> None:
    """Our own write to task fields, dated by ClickUp's answer like a webhook's change: a field whose newer
    ClickUp change the webhook processor applied meanwhile keeps it, and the late echo of an older write of ours
    finds the field newer."""

    def apply(fresh: dict[str, Any]) -> None:
        dates, keys = dict(fresh.get("field_dates") or {}), dict(fresh.get("field_keys") or {})
        for field, value in written.items():
            if date_ms >= int(dates.get(field, 0)):
                fresh[field], dates[field], keys[field] = value, date_ms, f"bridge:{date_ms}"
        fresh["field_dates"], fresh["field_keys"] = dates, keys

    _save_with(link, apply)


def _search(client: ClickUpClient, list_id: str, ticket_id: str, since_ms: int) -> Task | None:
    prefix = render.name_prefix(ticket_id)
    for task in client.iter_list_tasks(
        list_id, date_created_gt=since_ms - SEARCH_SKEW_MS, include_closed="true", subtasks="true"
    ):
        if task.name.startswith(prefix):
            return task
    return None


def _fail(link: dict[str, Any], code: str, message: str) -> None:
    before = {"state": link["state"]}
    _save(link, state=FAILED, error={"code": code, "message": message}, attempt=None)
    audit.record(link["org_id"], link["ticket_id"], "worker", "failed", before, {"state": FAILED, "error": code})
    publish(link["org_id"], "clickup.task.failed", TaskFailed(code=code, message=message), ticket_id=link["ticket_id"])
    metrics.add_metric(name="TaskCreationFailed", unit="Count", value=1)


def create(work: Work) -> None:
    org_id, ticket_id, link = work.org_id, work.ticket_id, work.link
    if link["state"] in (CREATED, FAILED, "deleted"):
        return  # a duplicate delivery, or a failure only the retry route re-queues
    attempt = link.get("attempt")
    if attempt and float(attempt.get("lease_until", 0)) > time.time():
        raise Busy(float(attempt["lease_until"]))
    if work.conn.status == connection.NEEDS_REAUTH:
        raise TokenRevoked("the organisation's ClickUp access was revoked")
    list_id = _list_to_create_in(work, attempt)
    if list_id is None:
        return
    body = _task_body(link, work.time_zone)
    before = {"state": link["state"]}
    attempt = {
        "id": uuid.uuid4().hex,
        "list_id": list_id,
        "started_ms": int(time.time() * 1000),
        "lease_until": round(time.time() + max(1.0, work.remaining_s()), 3),
    }
    _save(link, state=CREATING, attempt=attempt, list_id=list_id)
    if before["state"] != CREATING:
        audit.record(org_id, ticket_id, "worker", "creating", before, {"state": CREATING, "list_id": list_id})
    _create_task(work, list_id, body, attempt)


def _list_to_create_in(work: Work, attempt: dict[str, Any] | None) -> str | None:
    """The list to create the ticket's task in: the earlier attempt's (after looking there for the task it may
    have created: found, it is adopted), else the customer's mapped list (none: the link fails with
    `no_list_for_customer`). None when there is nothing left to create."""
    link = work.link
    if attempt:  # an earlier attempt may have created it: look before creating again
        found = _search(work.client, attempt["list_id"], work.ticket_id, int(attempt["started_ms"]))
        if found is not None:
            metrics.add_metric(name="TaskAdopted", unit="Count", value=1)
            _adopted(link, found, "adopted")
            return None
        return str(attempt["list_id"])
    customer = assignments.get(work.org_id, link["ticket"]["customer_id"])
    list_id = mapping.resolve_list(work.org_id, customer, work.settings)
    if list_id is None:
        _fail(link, "no_list_for_customer", "the customer has no ClickUp space or list to create the task in")
    return list_id


def _create_task(work: Work, list_id: str, body: dict[str, Any], attempt: dict[str, Any]) -> None:
    """POST the task under the attempt's lease, then adopt it. A refusal before anything was created re-queues
    the link (and raises); a missing list or a permanent refusal fails it; anything else (maybe created) keeps
    the attempt for the next delivery's search, its lease ended, and raises."""
    link = work.link
    try:
        task = work.client.create_task(list_id, body)
    except (RateLimited, TokenRevoked, WorkspaceNotAuthorized):
        _save(link, attempt=None, state=QUEUED)  # refused before anything was created
        raise
    except ClickUpNotFound as exc:
        _save(link, attempt=None)
        _fail(link, "list_not_found", f"ClickUp has no list {list_id} ({exc.ecode})")
        return
    except Permanent as exc:
        _save(link, attempt=None)
        _fail(link, exc.ecode or f"clickup_{exc.status}", f"ClickUp refused the task ({exc.status} {exc.ecode})")
        return
    except BaseException:
        # Transient (maybe created), a crash in between: keep the attempt for the next delivery's search, but
        # end the lease now since this invocation is done with it.
        try:
            _save(link, attempt={**attempt, "lease_until": 0})
        except Exception:  # noqa: BLE001 - the lease then simply runs out
            logger.warning("could not release the attempt lease", extra={"ticket_id": work.ticket_id})
        raise
    _adopted(link, task, "created")


def _adopted(link: dict[str, Any], task: Task, how: str) -> None:
    org_id, ticket_id = link["org_id"], link["ticket_id"]
    ticket_links.index_task(org_id, ticket_id, task.id)
    before = {"state": link["state"]}
    after = {
        "state": CREATED,
        "task_id": task.id,
        "task_url": task.url,
        "list_id": task.list_id or link.get("list_id"),
        "status": task.status.status,
        "priority": render.PRIORITY_NAMES.get(task.priority_number or 0, link.get("priority")),
        "assignees": [int(a.id) for a in task.assignees],
        "error": None,
        "attempt": None,
        "fields_pending": bool(link["ticket"].get("fields")),
        "created_in_clickup_at": task.date_created,
    }
    _save(link, **after)
    audit.record(org_id, ticket_id, "worker", how, before, {k: v for k, v in after.items() if k != "attempt"})
    publish(
        org_id,
        "clickup.task.created",
        TaskCreated(
            task_id=task.id,
            task_url=task.url,
            list_id=str(after["list_id"]) if after["list_id"] else None,
            adopted=how == "adopted",
        ),
        ticket_id=ticket_id,
        task_id=task.id,
    )
    metrics.add_metric(name="TaskCreated", unit="Count", value=1)
    logger.info("ticket task " + how, extra={"org_id": org_id, "ticket_id": ticket_id, "task_id": task.id})


# -- changes -------------------------------------------------------------------------------------------------
def apply_pending(work: Work) -> None:
    org_id, ticket_id, link = work.org_id, work.ticket_id, work.link
    if link["state"] != CREATED:
        return  # accepted changes wait in the table; the creation applies them when it succeeds
    ops = ticket_ops.pending(org_id, ticket_id)
    if not (ops or link.get("fields_pending")):
        return
    client, value, time_zone = work.client, work.settings, work.time_zone
    if link.get("fields_pending"):
        _set_fields(client, link, value, time_zone)
    for op in ops:
        if int(op["seq"]) <= int(link.get("ops_applied", 0)):  # applied; the worker died before removing it
            ticket_ops.done(org_id, ticket_id, int(op["seq"]))
            continue
        try:
            if op["op"]["kind"] == "comment":
                _comment(client, link, op)
            else:
                _update(client, link, op, work)
        except ClickUpNotFound:
            _op_failed(link, op, "task_not_found", "the ClickUp task no longer exists")
        except Permanent as exc:
            _op_failed(link, op, exc.ecode or f"clickup_{exc.status}", f"ClickUp refused the change ({exc.status})")
        except _Rejected as exc:
            _op_failed(link, op, exc.code, str(exc))
        # Counted before the op row goes: a worker dying in between leaves a row known to be applied (skipped
        # above), never an applied change the count misses (the portal would see it pending for ever).
        _save(link, ops_applied=max(int(link.get("ops_applied", 0)), int(op["seq"])))
        ticket_ops.done(org_id, ticket_id, int(op["seq"]))


class _Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _op_failed(link: dict[str, Any], op: dict[str, Any], code: str, message: str) -> None:
    audit.record(
        link["org_id"], link["ticket_id"], op["op"].get("actor", "worker"), "change_failed", {}, {"error": code}
    )
    publish(
        link["org_id"],
        "clickup.task.change_failed",
        ChangeFailed(code=code, message=message, change={k: v for k, v in op["op"].items() if k != "actor"}),
        ticket_id=link["ticket_id"],
        task_id=link.get("task_id"),
    )


def _set_fields(client: ClickUpClient, link: dict[str, Any], value: OrgSettings, time_zone: str | None) -> None:
    wanted = link["ticket"].get("fields") or {}
    defs = {f.id: f for f in client.get_list_fields(link["list_id"])}
    problems = []
    for portal_field, raw in wanted.items():
        field_id = value.field_mapping.get(portal_field)
        if not field_id or field_id not in defs:
            problems.append(f"{portal_field}: not mapped to a field of list {link['list_id']}")
            continue
        try:
            converted = convert(defs[field_id], raw, time_zone)
        except FieldValueError as exc:
            problems.append(str(exc))
            continue
        echo_marks.mark(link["org_id"], link["task_id"], f"custom_field:{field_id}", converted)
        client.set_custom_field(link["task_id"], field_id, converted)
    _save(link, fields_pending=False)
    if problems:
        publish(
            link["org_id"],
            "clickup.task.fields_failed",
            FieldsFailed(problems=problems),
            ticket_id=link["ticket_id"],
            task_id=link["task_id"],
        )


def _update(client: ClickUpClient, link: dict[str, Any], op: dict[str, Any], work: Work) -> None:
    change = op["op"]
    org_id, task_id = link["org_id"], link["task_id"]
    body, after = _update_body(link, change, work)
    sent = _mark_sent(org_id, task_id, body, after)
    task = client.update_task(task_id, body)
    if "assignees" in after:
        # The full set: someone ClickUp holds that the link did not know of yet (a ClickUp user's assignment whose
        # webhook is still on its way) is removed too
        extra = sorted({int(a.id) for a in task.assignees} - set(after["assignees"]))
        if extra:
            task = client.update_task(task_id, {"assignees": {"add": [], "rem": extra}})
    not_applied, missing = _not_applied(task, after)
    for field in not_applied:
        del after[field]  # the link keeps what ClickUp still holds
    _as_stored(org_id, task_id, task, after, sent)
    before = {k: link.get(k) for k in after}
    if after:
        _save_written(link, after, int(task.date_updated or time.time() * 1000))  # ClickUp always dates it
        audit.record(org_id, link["ticket_id"], change.get("actor", "worker"), "updated", before, after)
    _report_not_applied(link, change.get("actor", "worker"), change, not_applied, missing)


def _update_body(link: dict[str, Any], change: dict[str, Any], work: Work) -> tuple[dict[str, Any], dict[str, Any]]:
    """The PUT /task/{task_id} body for a portal change, and what the link holds after it (before ClickUp's
    answer). `_Rejected` when the status has no counterpart in the task's list."""
    body: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if change.get("status"):
        try:
            status = mapping.clickup_status(link["org_id"], link["list_id"], change["status"], work.settings, work.conn)
        except Unprocessable as exc:
            raise _Rejected(exc.code, str(exc)) from None
        body["status"], after["status"] = status, status
    if "priority" in change:  # null clears it (ClickUp's `priority: null`: no priority)
        body["priority"] = render.PRIORITIES[change["priority"]] if change["priority"] else None
        after["priority"] = change["priority"] or None
    if "due_date" in change:
        _due_date_change(change["due_date"], work.time_zone, body, after)
    if "assignees" in change:  # the full set; [] or null: nobody
        current = {int(a) for a in link.get("assignees") or []}
        wanted = {int(a) for a in change["assignees"] or []}
        body["assignees"] = {"add": sorted(wanted - current), "rem": sorted(current - wanted)}
        after["assignees"] = sorted(wanted)
    return body, after


def _due_date_change(due_date: str | None, time_zone: str | None, body: dict[str, Any], after: dict[str, Any]) -> None:
    """A due date change into the task body (ms and whether it has a time, in the workspace's zone) and the link
    (canonical). None clears it. Pure."""
    if due_date:
        body["due_date"], body["due_date_time"] = render.due_date_ms(due_date, time_zone)
    else:
        body["due_date"] = None
    # canonical on the link (a message queued before dates were canonical may carry an offset)
    after["due_date"] = render.canonical_due_date(due_date) if due_date else None


def _mark_sent(org_id: str, task_id: str, body: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Mark each field sent as our echo, before the call (ClickUp's webhook may be processed before its answer
    arrives), in the canonical form ClickUp's echo is compared in (echo_marks): what we send, not the portal's
    wording of it. Returns what was sent, by field."""
    sent = {"status": body.get("status"), "priority": body.get("priority"), "due_date": body.get("due_date")}
    sent["assignees"] = after.get("assignees")
    for field in ("status", "priority", "due_date", "assignees"):
        if field in body:
            echo_marks.mark(org_id, task_id, field, sent[field])
    return sent


def _as_stored(org_id: str, task_id: str, task: Task, after: dict[str, Any], sent: dict[str, Any]) -> None:
    """The link's new values as ClickUp answered it stored them (in place in `after`), each stored form that
    differs from the one sent marked as our echo too."""
    if "assignees" in after:
        # ClickUp answers 200 and leaves out a user it will not assign (no longer a member): the link keeps what
        # ClickUp holds, and the portal is told what was not done.
        after["assignees"] = sorted(int(a.id) for a in task.assignees)
    # ...and what ClickUp answered it stored: its own spelling of the status, its rounding of the date.
    stored = {"status": task.status.status, "priority": task.priority_number, "due_date": task.due_date}
    for field in ("status", "priority", "due_date"):
        if field in after and echo_marks.canonical(field, stored[field]) != echo_marks.canonical(field, sent[field]):
            echo_marks.mark(org_id, task_id, field, stored[field])
    if "status" in after:
        after["status"] = task.status.status  # the list's own spelling, as ClickUp's webhooks will say it


def _report_not_applied(
    link: dict[str, Any], actor: Any, change: dict[str, Any], not_applied: list[str], missing: list[int]
) -> None:
    """Tell the portal which parts of the change ClickUp answered without making, and whom it did not assign."""
    if not_applied:
        _op_failed(
            link,
            {"op": {"kind": "update", **{f: change.get(f) for f in not_applied}, "actor": actor}},
            "change_not_applied",
            f"ClickUp answered without making the change to {', '.join(not_applied)}",
        )
    if missing:
        _op_failed(
            link,
            {"op": {"kind": "update", "assignees": missing, "actor": actor}},
            "assignee_not_applied",
            f"ClickUp did not assign {missing} (not members of the workspace)",
        )


def _not_applied(task: Task, after: dict[str, Any]) -> tuple[list[str], list[int]]:
    """What ClickUp's answer to an update shows it did not do: the fields (status, priority, due date set or
    cleared) it left as they were, and the assignees it left out. A due date is compared set/cleared only
    (ClickUp may move a date-only due date within its day)."""
    fields = []
    if "status" in after and task.status.status.casefold() != str(after["status"]).casefold():
        fields.append("status")
    if "priority" in after and render.PRIORITY_NAMES.get(task.priority_number or 0) != after["priority"]:
        fields.append("priority")
    if "due_date" in after and (task.due_date is None) != (after["due_date"] is None):
        fields.append("due_date")
    missing: list[int] = []
    if "assignees" in after:
        missing = sorted(set(after["assignees"]) - {int(a.id) for a in task.assignees})
    return fields, missing


def _comment(client: ClickUpClient, link: dict[str, Any], op: dict[str, Any]) -> None:
    """Comments are not idempotent at ClickUp: record the attempt, and on a retry look for it before posting.
    ClickUp renders a comment's text its own way (`comment_text` may come back with a trailing newline), so the
    retry compares canonical texts (echo_marks.comment_text)."""
    org_id, ticket_id, task_id, text = link["org_id"], link["ticket_id"], link["task_id"], op["op"]["text"]
    started = op.get("attempt_started_ms")
    if started:
        wanted = echo_marks.comment_text(text)
        for comment in client.get_comments(task_id):
            same = echo_marks.comment_text(comment.get("comment_text") or comment.get("comment") or "") == wanted
            if same and int(comment.get("date") or 0) >= int(started) - SEARCH_SKEW_MS:
                _own_comment(link, str(comment.get("id")), text, int(comment.get("date") or 0))
                return
    ticket_ops.update(org_id, ticket_id, int(op["seq"]), attempt_started_ms=int(time.time() * 1000))
    echo_marks.mark(org_id, task_id, "comment", text)
    comment_id, date_ms = client.add_comment(task_id, text)
    _own_comment(link, comment_id, text, date_ms)
    audit.record(org_id, ticket_id, op["op"].get("actor", "worker"), "commented", {}, {"comment_id": comment_id})


def _own_comment(link: dict[str, Any], comment_id: str, text: str, date_ms: int) -> None:
    """The comment ClickUp created for us, by the id it answered: its webhook is our echo whatever its text looks
    like, and a later edit of it by a ClickUp user is an edit (processing.comment_state)."""
    if not comment_id or comment_id == "None":
        return
    echo_marks.mark(link["org_id"], link["task_id"], "comment_id", comment_id)
    _save_with(link, lambda fresh: record_own_comment(fresh, comment_id, text, date_ms))
