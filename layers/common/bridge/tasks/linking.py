"""Link a ticket to a ClickUp task that already exists, and unlink it (issue 19).

A linked task is then the ticket's task exactly as a created one is: the same `TICKET#` link record in state
`created` (its list, status, priority, assignees and due date read from ClickUp) and the same `TASK#{task}` /
`LINK` row, so webhooks, the reconciliation sweep, PATCH and comments work on it unchanged. Unlinking removes
both (the task stays in ClickUp); ClickUp's events on it are then ignored (no `TASK#` row)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bridge.clickup.errors import ClickUpError
from bridge.clickup.models import Task
from bridge.connection import service as connection
from bridge.connection.reads import portal_read
from bridge.core.clock import utc_now_iso
from bridge.core.errors import Conflict, DependencyUnavailable, NotFound, Unprocessable
from bridge.core.inputs import is_clickup_id
from bridge.core.observability import logger
from bridge.core.principal import Principal
from bridge.events.models import TaskLinked, TaskUnlinked
from bridge.repositories import audit, ticket_links
from bridge.repositories.table import Done, versioned_update
from bridge.repositories.ticket_links import CREATED, CREATING, QUEUED
from bridge.tasks import render

# ClickUp's task links: `https://app.clickup.com/t/{task_id}` and, for a workspace with custom task ids,
# `https://app.clickup.com/t/{team_id}/{custom_task_id}` (ClickUp Help "Custom Task IDs"; the API then takes
# `GET /task/{custom_id}?custom_task_ids=true&team_id={team_id}`, Get Task doc). Also accepted: the same paths on
# the origins of the configured ClickUp app and API (CLICKUP_APP_BASE_URL, CLICKUP_API_BASE_URL: locally the
# emulator, whose tasks' `url`s are on it).
_TASK_PATH = re.compile(r"^/t/(?:(?P<team>[0-9]{1,32})/)?(?P<task>[A-Za-z0-9_-]{1,64})/?$")
APP_ORIGIN = "https://app.clickup.com"


class _Event:
    """A portal event recorded in the feed by the same transaction as the link change it reports (its feed rows go
    into the transaction), then put on the bus. Should the bus refuse, the event is still in the feed (the pull
    route) and the change stands; the route answers 5xx like any other failed publish."""

    def __init__(
        self, type: str, data: TaskLinked | TaskUnlinked, org_id: str, ticket_id: str, task_id: str | None
    ) -> None:
        self.type, self.data, self.org_id, self.ticket_id, self.task_id = type, data, org_id, ticket_id, task_id
        self.key = f"{type}#{ticket_id}#{uuid.uuid4().hex}"  # one event per change (a retried transaction: a new one)

    def feed_rows(self) -> list[dict[str, Any]]:
        from bridge.events.publisher import feed_rows

        return feed_rows(
            self.org_id, self.type, self.data, dedup_key=self.key, ticket_id=self.ticket_id, task_id=self.task_id
        )

    def put_on_bus(self) -> None:
        from bridge.events.publisher import publish

        # Recorded by the transaction: `again` finds it and puts that very event on the bus
        publish(
            self.org_id,
            self.type,
            self.data,
            ticket_id=self.ticket_id,
            task_id=self.task_id,
            dedup_key=self.key,
            again=True,
        )


def parse_task_url(url: str) -> tuple[str, str | None]:
    """(task id, None) or (custom task id, workspace id) from a ClickUp task URL; 422 `task_url_invalid`."""
    from urllib.parse import urlsplit

    from bridge.clickup.client import base_url
    from bridge.core.config import settings

    parts = urlsplit(url.strip())
    origins = {APP_ORIGIN}
    for base in (settings().clickup_app_base_url, base_url()):
        origin = urlsplit(base)
        origins.add(f"{origin.scheme}://{origin.netloc}".lower())
    found = _TASK_PATH.match(parts.path) if f"{parts.scheme}://{parts.netloc}".lower() in origins else None
    if found is None:
        raise Unprocessable(
            "not a ClickUp task URL (https://app.clickup.com/t/{task_id} or /t/{workspace_id}/{custom_task_id})",
            code="task_url_invalid",
        )
    return found["task"], found["team"]


def _not_found() -> NotFound:
    # The same answer for an unknown task and another organisation's: nothing is revealed
    return NotFound("no such task in a ClickUp workspace this organisation authorized", code="task_not_found")


def _read_task(
    org_id: str, conn: Any, task_id: str, custom_in_team: str | None, remaining_s: Callable[[], float] | None
) -> Task:
    authorized = set(conn.authorized_workspace_ids)
    if custom_in_team is not None and custom_in_team not in authorized:
        raise _not_found()
    client = connection.client_for(org_id, conn=conn, remaining_s=remaining_s)

    def refused(exc: ClickUpError) -> Exception:
        if exc.status in (400, 401, 403):  # refused for this token: as good as not found for the organisation
            return _not_found()
        return DependencyUnavailable("ClickUp refused the read; try again", code="clickup_unavailable")

    with portal_read(org_id, "link", _not_found, refused):
        task = client.get_task(task_id, custom_in_team=custom_in_team)
    if task.team_id not in authorized:
        raise _not_found()
    return task


def _due_date(task: Task, time_zone: str | None) -> str | None:
    """The task's due date as the portal writes it: a calendar day when ClickUp holds a date-only due date (our
    date-only hour in the workspace's zone), else the instant in UTC."""
    if task.due_date is None:
        return None
    local = datetime.fromtimestamp(task.due_date / 1000, UTC).astimezone(render.zone(time_zone))
    date_only = (local.hour, local.minute, local.second, local.microsecond) == (render.DATE_ONLY_HOUR, 0, 0, 0)
    return render.due_date_text(task.due_date, not date_only, time_zone)


def link(
    principal: Principal,
    ticket_id: str,
    task_id: str | None,
    task_url: str | None,
    remaining_s: Callable[[], float] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Link the ticket to an existing task (`task_id`, or `task_url`: a ClickUp task URL, custom task ids
    included). 201 with the link; 200 when the ticket is already linked to that task (a repeated PUT).
    `remaining_s`: the seconds ClickUp's read may take, retries included (the request's budget; 503
    `clickup_unavailable` when ClickUp does not answer within it).

    Errors: 404 `task_not_found` (unknown, or not in a workspace the organisation authorized: the same answer),
    409 `ticket_already_linked` (the ticket has a task, or one being created), 409 `task_already_linked` (another
    ticket holds the task), 422 `task_url_invalid`, 409 not_connected / needs_reauth / module_disabled."""
    from bridge.tasks.service import view

    org_id = principal.org_id
    value, conn = connection.require_connected(org_id, allow_reauth=False)
    task_id, custom_in_team = _wanted_task(task_id, task_url)
    existing = ticket_links.get(org_id, ticket_id)
    if existing is not None and existing.get("task_id") != task_id and custom_in_team is None:
        raise Conflict("this ticket already has a ClickUp task: unlink it first", code="ticket_already_linked")
    task = _read_task(org_id, conn, task_id, custom_in_team, remaining_s)
    for _ in range(3):
        existing = ticket_links.get(org_id, ticket_id)
        if existing is not None:
            if existing.get("task_id") == task.id and existing["state"] == CREATED:
                return 200, view(existing)
            raise Conflict("this ticket already has a ClickUp task: unlink it first", code="ticket_already_linked")
        record = _linked_record(task, connection.time_zone(value, conn))
        after = {k: record[k] for k in ("state", "task_id", "task_url", "list_id", "status", "priority")}
        actor = f"user:{principal.user_id}"
        row = audit.row(org_id, ticket_id, actor, "linked", {}, after)
        data = TaskLinked(
            task_id=task.id,
            task_url=task.url,
            list_id=task.list_id,
            workspace_id=task.team_id,
            status=task.status.status,
            by=actor,
        )
        event = _Event("clickup.task.linked", data, org_id, ticket_id, task.id)
        stored = ticket_links.link_existing(org_id, ticket_id, task.id, record, row, also=event.feed_rows())
        if stored is not None:
            logger.info("ticket linked to an existing task", extra={"org_id": org_id, "ticket_id": ticket_id})
            event.put_on_bus()
            return 201, view(stored)
        _release_if_stale(org_id, ticket_id, task.id)
    raise Conflict("the ticket's link changed meanwhile; try again", code="link_contention")


def _wanted_task(task_id: str | None, task_url: str | None) -> tuple[str, str | None]:
    """The task id to link, from the id or the task URL, and the workspace of a custom task id (None for a task
    id). 422 `task_url_invalid` for a URL that is not a ClickUp task's, 404 `task_not_found` for an id that cannot
    be ClickUp's."""
    custom_in_team = None
    if task_url is not None:
        task_id, custom_in_team = parse_task_url(task_url)
    assert task_id is not None  # the body model requires one of them
    if not is_clickup_id(task_id):
        raise _not_found()
    return task_id, custom_in_team


def _linked_record(task: Task, time_zone: str | None) -> dict[str, Any]:
    """The link of a ticket to an existing task, as stored: created, with the task's state as ClickUp read it
    (due date in the workspace's zone `time_zone`). Pure but for the clock."""
    now = utc_now_iso()
    return {
        "state": CREATED,
        "linked": True,
        "ticket": {},
        "generation": 1,
        "workspace_id": task.team_id,
        "created_at": now,
        "updated_at": now,
        "task_id": task.id,
        "task_url": task.url,
        "list_id": task.list_id,
        "status": task.status.status,
        "priority": render.PRIORITY_NAMES.get(task.priority_number or 0),
        "assignees": sorted(int(a.id) for a in task.assignees if a.id.isdigit()),
        "due_date": _due_date(task, time_zone),
        "created_in_clickup_at": task.date_created,
    }


def _release_if_stale(org_id: str, ticket_id: str, task_id: str) -> None:
    """After a lost race to link `task_id`: 409 `task_already_linked` when another ticket holds the task; a stale
    hold (its ticket no longer has the task) is released so that the next try can take it. Nothing to do when the
    ticket got a link meanwhile or the task was released: the next try decides."""
    if ticket_links.get(org_id, ticket_id) is not None:
        return  # the ticket got a link meanwhile: decided by the next try
    ref = ticket_links.find_by_task(task_id)
    if ref is None:
        return  # released meanwhile: try again
    holder = ticket_links.get(ref["org_id"], ref["ticket_id"])
    if holder is not None and holder.get("task_id") == task_id:
        raise Conflict("another ticket is linked to this ClickUp task", code="task_already_linked")
    ticket_links.release_stale_task(task_id, ref)  # its ticket no longer holds it


def unlink(principal: Principal, ticket_id: str) -> None:
    """Remove the ticket's task link (the task stays in ClickUp; its events are no longer the ticket's). Idempotent:
    a ticket without a link answers the same. 409 `task_creation_in_flight` while its task is being created (the
    worker would create it anyway)."""
    org_id = principal.org_id
    connection.require_enabled(org_id)

    def read() -> dict[str, Any] | Done:
        current = ticket_links.get(org_id, ticket_id)
        return Done(None) if current is None else current

    def change(current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], _Event]:
        if current["state"] in (QUEUED, CREATING):
            raise Conflict("the ticket's task is being created: unlink it once created", code="task_creation_in_flight")
        before = {k: current.get(k) for k in ("state", "task_id", "task_url")}
        actor = f"user:{principal.user_id}"
        row = audit.row(org_id, ticket_id, actor, "unlinked", before, {"state": None})
        task_id = current.get("task_id")
        data = TaskUnlinked(task_id=task_id, state=current["state"], by=actor)
        return current, row, _Event("clickup.task.unlinked", data, org_id, ticket_id, task_id)

    unlinked = versioned_update(
        read,
        change,
        lambda removal: ticket_links.unlink(removal[0], removal[1], also=removal[2].feed_rows()),
        tries=5,
        contended=Conflict("the ticket's link changed meanwhile; try again", code="link_contention"),
    )
    if unlinked is not None:
        logger.info("ticket unlinked from its task", extra={"org_id": org_id, "ticket_id": ticket_id})
        unlinked[2].put_on_bus()
