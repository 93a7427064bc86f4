"""Space sync: the ClickUp hierarchy of every authorized workspace into our store, in 1 + 2S requests.

Per workspace: `GET /team/{ws}/space?archived=true` (archived and active, 1 request), then per space
`GET /space/{id}/folder?archived=true` (folders with their lists and statuses embedded) and
`GET /space/{id}/list?archived=true` (folderless lists): 2 requests. Rows are stamped with the run; rows not seen
by a complete run are swept afterwards (never after an interrupted one). Progress is checkpointed per space, so a
run interrupted by the time budget, the rate limit or an error resumes where it stopped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bridge.clickup import models
from bridge.clickup.client import ClickUpClient
from bridge.clickup.errors import NotFound, WorkspaceNotAuthorized
from bridge.connection import service as connection
from bridge.core import aws
from bridge.core.clock import utc_now_iso
from bridge.core.config import settings
from bridge.core.observability import logger, metrics
from bridge.events.models import AssignmentBroken
from bridge.events.publisher import publish
from bridge.queueing import fanout
from bridge.queueing.messages import SyncTick
from bridge.repositories import (
    assignments,
    connections,
    hierarchy,
    members,
    org_settings,
    sync_state,
    tick_marks,
)

FULL_SYNC_TTL_S = 15 * 60  # the shortest cache TTL (lists: 15 min; spaces 30 min; workspaces 1 h)
STALE_AFTER_S = 30 * 60  # the hierarchy API calls data older than this stale (spaces' TTL)
MIN_REMAINING_S = 5.0  # stop and hand over to a continuation below this


class Interrupted(Exception):
    """Out of time: the checkpoint is saved and a continuation is queued."""


def send(message: dict[str, Any], dedup: str | None = None) -> None:
    org = message.get("org_id") or "tick"
    aws.client("sqs").send_message(
        QueueUrl=settings().sync_queue_url,
        MessageBody=json.dumps(message),
        MessageGroupId=org,
        MessageDeduplicationId=dedup or uuid.uuid4().hex,
    )


def request_sync(org_id: str, reason: str) -> bool:
    """Queue a full sync unless one is already queued or running for the organisation."""
    if not sync_state.claim_request(org_id):
        return False
    send({"kind": "sync", "org_id": org_id, "reason": reason})
    return True


# -- rows -------------------------------------------------------------------------------------------------
def _statuses(statuses: list[models.Status]) -> list[dict[str, Any]]:
    return [{"status": s.status, "type": s.type, "color": s.color, "orderindex": s.orderindex} for s in statuses]


def _space_rows(ws: str, run: str, now: str, spaces: list[models.Space]) -> list[dict[str, Any]]:
    return [
        {
            "sk": hierarchy.space_key(ws, s.id),
            "kind": "space",
            "id": s.id,
            "space_id": s.id,
            "name": s.name,
            "archived": s.archived,
            "statuses": _statuses(s.statuses),
            "run": run,
            "synced_at": now,
        }
        for s in spaces
    ]


def _contents_rows(
    ws: str, space_id: str, run: str, now: str, folders: list[models.Folder], folderless: list[models.ListItem]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for folder in folders:
        rows.append(
            {
                "sk": hierarchy.folder_key(ws, space_id, folder.id),
                "kind": "folder",
                "id": folder.id,
                "space_id": space_id,
                "name": folder.name,
                "archived": folder.archived,
                "run": run,
                "synced_at": now,
            }
        )
        rows += [_list_row(ws, space_id, lst, folder.id, run, now) for lst in folder.lists]
    rows += [_list_row(ws, space_id, lst, None, run, now) for lst in folderless]
    return rows


def _list_row(
    ws: str, space_id: str, lst: models.ListItem, folder_id: str | None, run: str, now: str
) -> dict[str, Any]:
    row = {
        "sk": hierarchy.list_key(ws, space_id, lst.id),
        "kind": "list",
        "id": lst.id,
        "space_id": space_id,
        "name": lst.name,
        "archived": lst.archived,
        "statuses": _statuses(lst.statuses),
        "run": run,
        "synced_at": now,
    }
    if folder_id:
        row["folder_id"] = folder_id
    return row


def _read_space(client: ClickUpClient, ws: str, space_id: str, run: str) -> list[dict[str, Any]]:
    now = utc_now_iso()
    folders = client.get_folders(space_id, archived=True)
    folderless = client.get_folderless_lists(space_id, archived=True)
    return _contents_rows(ws, space_id, run, now, folders, folderless)


# -- runs --------------------------------------------------------------------------------------------------
def _age_s(last_sync_at: str | None, now: float) -> float:
    if not last_sync_at:
        return float("inf")
    return now - datetime.fromisoformat(last_sync_at.replace("Z", "+00:00")).timestamp()


def run_full_sync(org_id: str, remaining_s: Callable[[], float], reason: str = "on_demand") -> None:
    conn = connection.current(org_id)
    if conn.status != connection.CONNECTED or not org_settings.get(org_id).enabled:
        logger.info("sync skipped", extra={"org_id": org_id, "status": conn.status})
        sync_state.set_state(org_id, "idle")
        return
    if reason in ("schedule", "first_read") and _age_s(conn.last_sync_at, time.time()) < FULL_SYNC_TTL_S:
        # The tick (or a read of a never-synced hierarchy) saw it stale, but a sync completed since: do not spend
        # the budget twice (a read racing the first sync's last write queued this one).
        logger.info("scheduled sync skipped: hierarchy fresh", extra={"org_id": org_id})
        sync_state.set_state(org_id, "idle")
        return
    sync_state.set_state(org_id, "running")
    client = connection.client_for(org_id, remaining_s=remaining_s)
    # The workspaces' members (who may be assigned a task), 1 request for all of them (`GET /team`)
    authorized = set(conn.authorized_workspace_ids)
    for team in client.get_teams():
        if team.id in authorized:
            members.put(org_id, team.id, team.member_ids)
    for ws in conn.authorized_workspace_ids:
        sync_workspace(org_id, ws, client, remaining_s)
    connections.set_last_sync(org_id, utc_now_iso())
    sync_state.set_state(org_id, "idle")


def sync_workspace(org_id: str, ws: str, client: ClickUpClient, remaining_s: Callable[[], float]) -> None:
    state = sync_state.get_run(org_id, ws)
    if state.get("status") != "running":
        run = uuid.uuid4().hex[:12]
        found = client.get_spaces(ws, archived=True)
        hierarchy.write(org_id, _space_rows(ws, run, utc_now_iso(), found))
        state = {
            "status": "running",
            "run": run,
            "spaces": [s.id for s in found],
            "done": 0,
            "started_at": utc_now_iso(),
            "synced_at": state.get("synced_at"),
        }
        sync_state.put_run(org_id, ws, state)
    run, spaces = state["run"], list(state["spaces"])
    for index in range(int(state["done"]), len(spaces)):
        if remaining_s() < MIN_REMAINING_S:
            raise Interrupted(f"stopped at space {index}/{len(spaces)} of {ws}")
        space_id, now = spaces[index], utc_now_iso()
        if state.get("folders_done") != index:  # each of the two reads is its own checkpoint
            folders = client.get_folders(space_id, archived=True)
            hierarchy.write(org_id, _contents_rows(ws, space_id, run, now, folders, []))
            state["folders_done"] = index
            sync_state.put_run(org_id, ws, state)
        folderless = client.get_folderless_lists(space_id, archived=True)
        hierarchy.write(org_id, _contents_rows(ws, space_id, run, now, [], folderless))
        state["done"] = index + 1
        sync_state.put_run(org_id, ws, state)  # checkpoint: a retry resumes after this space
    _sweep(org_id, ws, [r for r in hierarchy.load(org_id, ws) if r.get("run") != run])
    state.update(status="idle", synced_at=utc_now_iso(), finished_at=utc_now_iso(), spaces=[], done=0, folders_done=-1)
    sync_state.put_run(org_id, ws, state)
    metrics.add_metric(name="SpaceSyncCompleted", unit="Count", value=1)
    logger.info("workspace synced", extra={"org_id": org_id, "workspace_id": ws, "spaces": len(spaces)})


def refresh(
    org_id: str,
    ws: str,
    space_id: str | None,
    list_id: str | None,
    folder_id: str | None,
    deleted: bool,
    remaining_s: Callable[[], float],
) -> None:
    """Targeted refresh of the one space a hierarchy webhook concerns."""
    rows = hierarchy.load(org_id, ws)
    if space_id is None:
        ref = list_id or folder_id
        space_id = next((r["space_id"] for r in rows if r.get("id") == ref and r["kind"] in ("list", "folder")), None)
    if space_id is None:
        request_sync(org_id, "webhook")  # unknown to us: a full sync places it
        return
    in_space = [r for r in rows if r.get("space_id") == space_id]
    if deleted and list_id is None and folder_id is None:
        _sweep(org_id, ws, in_space)
        return
    client = connection.client_for(org_id, remaining_s=remaining_s)
    run = uuid.uuid4().hex[:12]
    try:
        fresh = _read_space(client, ws, space_id, run)  # 2 requests
    except (WorkspaceNotAuthorized, NotFound):
        _sweep(org_id, ws, in_space)  # the space is gone
        return
    space_row = [{**r, "run": run} for r in in_space if r["kind"] == "space"]
    hierarchy.write(org_id, space_row + fresh)
    _sweep(org_id, ws, [r for r in hierarchy.load_space(org_id, ws, space_id) if r.get("run") != run])


def _sweep(org_id: str, ws: str, gone: list[dict[str, Any]]) -> None:
    if not gone:
        return
    hierarchy.delete(org_id, gone)
    gone_spaces = {r["id"] for r in gone if r["kind"] == "space"}
    gone_lists = {r["id"] for r in gone if r["kind"] == "list"}
    for assignment in assignments.all_for(org_id):
        if assignment.get("workspace_id") != ws or assignment.get("status") == "broken":
            continue
        reason = (
            "space_deleted"
            if assignment.get("space_id") in gone_spaces
            else "list_deleted"
            if assignment.get("list_id") in gone_lists
            else None
        )
        if reason:
            assignments.put(
                org_id,
                assignment["customer_id"],
                {**assignment, "status": "broken", "broken_reason": reason, "updated_at": utc_now_iso()},
            )
            publish(
                org_id,
                "clickup.assignment.broken",
                AssignmentBroken.model_validate(
                    {
                        "customer_id": assignment["customer_id"],
                        "space_id": assignment.get("space_id"),
                        "list_id": assignment.get("list_id"),
                        "reason": reason,
                    }
                ),
            )
    logger.info("hierarchy swept", extra={"org_id": org_id, "workspace_id": ws, "removed": len(gone)})


def fan_out(
    message: SyncTick,
    remaining_s: Callable[[], float],
    *,
    group_id: str | None = None,
    sent_timestamp_ms: str | int | None = None,
    page_size: int | None = None,
    queue_url: str | None = None,
) -> fanout.PageResult:
    """One page of the schedule's tick: a `check` job queued for each organisation of the page, then the next page
    (see `bridge.queueing.fanout`). `page_size` and `queue_url` default to the function's settings (TICK_PAGE_SIZE,
    SYNC_QUEUE_URL)."""
    tick_id = fanout.tick_id(message.tick, sent_timestamp_ms)
    return fanout.run_page(
        queue_url=queue_url or settings().sync_queue_url,
        tick_message={"kind": message.kind, "tick": tick_id, "after": message.after},
        job=lambda org_id: {"kind": "check", "org_id": org_id, "tick": tick_id},
        group_id=group_id or "space-sync-tick",
        remaining_s=remaining_s,
        page_size=page_size or settings().tick_page_size,
    )


def check_stale(org_id: str, tick: str, owner: str, now: float | None = None) -> bool:
    """A tick's job for one organisation, once per tick (`tick_marks`; `owner`: the job message's id): queue a
    full sync when the organisation is connected and enabled and its last full sync is older than FULL_SYNC_TTL_S,
    unless one is queued or running already. True when a sync was queued."""
    if not tick_marks.claim(org_id, "sync", tick, owner):
        metrics.add_metric(name="TickJobsDuplicate", unit="Count", value=1)
        return False
    conn = connection.current(org_id)
    if conn.status != connection.CONNECTED or not org_settings.get(org_id).enabled:
        return False
    return _age_s(conn.last_sync_at, now or time.time()) >= FULL_SYNC_TTL_S and request_sync(org_id, "schedule")
