"""The reconciliation sweep: ClickUp drops an event for good after 5 failed tries, so every organisation's task
updates are read back periodically (filtered team tasks, closed tasks and subtasks included, oldest update
first) and applied through the same path as webhooks. A dropped webhook is repaired within one sweep interval.

Comments: ClickUp documents no webhook event for a deleted comment, so for each linked task it reads whose link
knows comments, the sweep reads the task's comments back (`GET /task/{id}/comment`, paged to the oldest known one)
and reports a known comment gone as `clickup.task.comment_deleted` (and a text that changed without its
taskCommentUpdated as `clickup.task.comment_updated`). Whether deleting a comment moves the task's `date_updated`
is undocumented: when it does not, the deletion is found the next time the task changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bridge.clickup.errors import NotFound, WorkspaceNotAuthorized
from bridge.connection import service as connection
from bridge.core.errors import Interrupted
from bridge.core.observability import logger, metrics
from bridge.repositories import checkpoints, ticket_links
from bridge.webhooks.processing import apply_changes, changes_from_task, comment_changes

if TYPE_CHECKING:
    from bridge.clickup.client import ClickUpClient
    from bridge.clickup.models import Task

OVERLAP_MS = 60_000  # updates that land late in ClickUp's index are read again; applying twice changes nothing
FIRST_SWEEP_LOOKBACK_MS = 3_600_000
STOP_WITH_S = 10.0  # what an invocation keeps in hand to record its progress and hand over


def sweep(org_id: str, remaining_s: Callable[[], float], owner: str | None = None) -> dict[str, int]:
    conn = connection.current(org_id)
    if conn.status != connection.CONNECTED:
        return {"tasks": 0, "reported": 0}
    client = connection.client_for(org_id, remaining_s=remaining_s, conn=conn)
    seen = reported = 0
    for workspace_id in conn.authorized_workspace_ids:
        try:
            found = _sweep_workspace(org_id, workspace_id, conn.connected_at, client, remaining_s, owner)
        except WorkspaceNotAuthorized:
            # The token no longer authorizes it (narrowed by a later consent): marked on the connection, and the
            # sweep goes on with the organisation's other workspaces.
            connection.workspace_not_authorized(org_id, workspace_id, client, "sweep")
            continue
        seen, reported = seen + found[0], reported + found[1]
    metrics.add_metric(name="SweepTasksRead", unit="Count", value=seen)
    metrics.add_metric(name="SweepChangesReported", unit="Count", value=reported)
    logger.info("reconciliation sweep", extra={"org_id": org_id, "tasks": seen, "reported": reported})
    return {"tasks": seen, "reported": reported}


def _sweep_workspace(
    org_id: str,
    workspace_id: str,
    connected_at: str | None,
    client: ClickUpClient,
    remaining_s: Callable[[], float],
    owner: str | None,
) -> tuple[int, int]:
    """One workspace's updates since its checkpoint: (tasks read, changes reported). Raises `Interrupted` when
    out of time, `WorkspaceNotAuthorized` when `GET /team/{id}/task` is refused."""
    seen = reported = 0
    since = checkpoints.get(org_id, workspace_id)
    if since is None:
        since = _connected_ms(connected_at) - FIRST_SWEEP_LOOKBACK_MS
    since -= OVERLAP_MS
    while True:
        # Keyset pages: the first page of what was updated after the checkpoint, oldest first, so tasks
        # updated while the sweep runs move behind it instead of shifting a page offset under it.
        pages = client.iter_team_task_pages(
            workspace_id,
            date_updated_gt=since,
            order_by="updated",
            reverse=True,
            include_closed=True,
            subtasks=True,
        )
        newest, full = since, False
        for _, tasks in pages:
            if remaining_s() < STOP_WITH_S:
                raise Interrupted(f"{seen} tasks read")
            for task in tasks:
                if remaining_s() < STOP_WITH_S:
                    # tasks come oldest update first: what was applied so far is done, the rest follows
                    checkpoints.advance(org_id, workspace_id, max(since, int(task.date_updated or 0) - 1))
                    raise Interrupted(f"{seen} tasks read")
                reported += apply_changes(org_id, task.id, changes_from_task(task), owner=owner)
                reported += _comments(org_id, task, client, owner)
                seen += 1
            newest = max([newest, *(int(t.date_updated or 0) for t in tasks)])
            checkpoints.advance(org_id, workspace_id, newest)
            full = len(tasks) >= 100
            if newest - 1 > since:
                break  # progress: the next page starts from the new checkpoint
            # a whole page updated in one millisecond: read on by offset
        if not full:
            break
        since = newest - 1  # tasks sharing the boundary millisecond are read again, harmlessly
    return seen, reported


def _comments(org_id: str, task: Task, client: ClickUpClient, owner: str | None) -> int:
    """Report what the task's comments, read now, say that no webhook did (processing.comment_changes)."""
    ref = ticket_links.find_by_task(task.id)
    if ref is None or ref.get("org_id") != org_id:
        return 0
    link = ticket_links.get(org_id, ref["ticket_id"])
    known = [s for s in ((link or {}).get("comments") or {}).values() if not s.get("x")]
    if link is None or not known:
        return 0
    oldest = min(int(s.get("d") or 0) for s in known)
    try:
        comments = list(client.iter_comments(task.id, since_ms=oldest))
    except (NotFound, WorkspaceNotAuthorized):
        # The task went between the page and this read (ClickUp answers an id it no longer shows with 404 or
        # OAUTH_023): nothing to compare now; its deletion is reported by its webhook or the next read.
        logger.info("task gone before its comments were read", extra={"org_id": org_id, "task_id": task.id})
        return 0
    return apply_changes(org_id, task.id, comment_changes(comments, link, int(task.date_updated or 0)), owner=owner)


def _connected_ms(connected_at: str | None) -> int:
    if not connected_at:
        return int(time.time() * 1000)
    return int(datetime.fromisoformat(connected_at.replace("Z", "+00:00")).timestamp() * 1000)
