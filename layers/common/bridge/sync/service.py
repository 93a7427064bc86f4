"""Space sync: the ClickUp hierarchy of every authorized workspace into our store.

ClickUp's reference does not say what `archived=true` selects on Get Spaces / Get Folders / Get Folderless Lists /
Get Lists (developer.clickup.com/reference/getspaces, getfolders, getfolderlesslists, getlists: a boolean with no
description). Public connectors read it as "archived items only"; the bridge read it as "archived items too". The
sync is right under both:

- it reads `archived=true` first. An answer holding an item that says `"archived": false` proves the "archived
  items too" reading (under "archived only" it could not hold one); the run remembers it and reads nothing more for
  active items: **1 + 2S** requests for S spaces (as before).
- until that is proven (an answer of archived items only, or an empty one, proves nothing) each `archived=true`
  read is paired with its `archived=false` read, and the lists of each folder that the folder answers may not
  embed (the archived lists of an active folder, the active lists of an archived folder) are read per folder
  (`GET /folder/{id}/list`): under "archived only" **2 + 4S + F** requests (F folders).

Items keep the `archived` ClickUp gives them (an item without the field takes the flag of the read that found
it). Rows are stamped with the run; rows not seen by a complete run are swept afterwards (never after an
interrupted one). Progress is checkpointed after every read, so a run interrupted by the time budget, the rate
limit or an error resumes where it stopped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bridge.clickup import models
from bridge.clickup.client import ClickUpClient
from bridge.clickup.errors import NotFound, WorkspaceNotAuthorized
from bridge.connection import service as connection
from bridge.core.clock import utc_now_iso
from bridge.core.config import settings
from bridge.core.errors import Interrupted
from bridge.core.observability import logger, metrics
from bridge.events.models import AssignmentBroken
from bridge.events.publisher import publish
from bridge.queueing import fanout, producer
from bridge.queueing.messages import SyncCheck, SyncRequest, SyncTick
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


def request_sync(org_id: str, reason: str) -> bool:
    """Queue a full sync unless one is already queued or running for the organisation."""
    if not sync_state.claim_request(org_id):
        return False
    producer.enqueue(SyncRequest(kind="sync", org_id=org_id, reason=reason))
    return True


# -- rows -------------------------------------------------------------------------------------------------
def _statuses(statuses: list[models.Status]) -> list[dict[str, Any]]:
    return [{"status": s.status, "type": s.type, "color": s.color, "orderindex": s.orderindex} for s in statuses]


def _archived(item: models.Space | models.Folder | models.ListItem, asked: bool) -> bool:
    """The item's own `archived`, or, when the answer omits it, the flag of the read that found it."""
    return item.archived if "archived" in item.model_fields_set else asked


def proves_all_items(items: Sequence[models.Space | models.Folder | models.ListItem]) -> bool:
    """True when an `archived=true` answer holds an item that says `"archived": false`: ClickUp then reads the flag
    as "archived items too" (under "archived only" such an answer holds archived items only). An answer without
    one proves nothing (empty, or every item archived). Only the answer's own items count, never the lists a
    folder embeds (what those follow is not documented either)."""
    return any("archived" in i.model_fields_set and i.archived is False for i in items)


def _space_rows(ws: str, run: str, now: str, spaces: list[models.Space], asked: bool) -> list[dict[str, Any]]:
    return [
        {
            "sk": hierarchy.space_key(ws, s.id),
            "kind": "space",
            "id": s.id,
            "space_id": s.id,
            "name": s.name,
            "archived": _archived(s, asked),
            "statuses": _statuses(s.statuses),
            "run": run,
            "synced_at": now,
        }
        for s in spaces
    ]


def _contents_rows(
    ws: str,
    space_id: str,
    run: str,
    now: str,
    folders: list[models.Folder],
    folderless: list[models.ListItem],
    asked: bool,
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
                "archived": _archived(folder, asked),
                "run": run,
                "synced_at": now,
            }
        )
        rows += [_list_row(ws, space_id, lst, folder.id, run, now, asked) for lst in folder.lists]
    rows += [_list_row(ws, space_id, lst, None, run, now, asked) for lst in folderless]
    return rows


def _list_row(
    ws: str, space_id: str, lst: models.ListItem, folder_id: str | None, run: str, now: str, asked: bool
) -> dict[str, Any]:
    row = {
        "sk": hierarchy.list_key(ws, space_id, lst.id),
        "kind": "list",
        "id": lst.id,
        "space_id": space_id,
        "name": lst.name,
        "archived": _archived(lst, asked),
        "statuses": _statuses(lst.statuses),
        "run": run,
        "synced_at": now,
    }
    if folder_id:
        row["folder_id"] = folder_id
    return row


def _next_read(progress: dict[str, Any], all_items: bool) -> str | None:
    """The next read of one space's contents, or None when they are complete.

    `progress`: `{"done": [read keys], "folders": {folder id: archived}}` of the space so far. Keys:
    `folders:true|false` (Get Folders), `lists:true|false` (Get Folderless Lists), `folder:{id}:true|false`
    (Get Lists of one folder)."""
    done = set(progress.get("done", []))
    for key in ("folders:true", "lists:true"):
        if key not in done:
            return key
    if all_items:  # the archived=true answers hold everything, with each folder's lists
        return None
    for key in ("folders:false", "lists:false"):
        if key not in done:
            return key
    for folder_id, archived in sorted(progress.get("folders", {}).items()):
        key = f"folder:{folder_id}:{'false' if archived else 'true'}"  # what the folder answers may not embed
        if key not in done:
            return key
    return None


def _read_step(
    org_id: str,
    client: ClickUpClient,
    ws: str,
    space_id: str,
    run: str,
    key: str,
    progress: dict[str, Any],
    space_gone_ok: bool = False,
) -> bool:
    """Make one read of a space's contents, write its rows and note it in `progress`. True: it proved the
    "archived items too" reading.

    A folder that is gone by the time its lists are read (404, or ClickUp's `OAUTH_023` for an id it no longer
    shows) answers nothing: its rows are not stamped and the sweep removes them, rather than the run failing on
    that read for ever. With `space_gone_ok` (a full sync) the same holds for a space gone in the middle of a run;
    otherwise (a targeted refresh) `NotFound` / `WorkspaceNotAuthorized` are raised for the caller to sweep."""
    kind, _, rest = key.partition(":")
    target, _, flag = rest.rpartition(":") if kind == "folder" else ("", "", rest)
    asked, now = flag == "true", utc_now_iso()
    proved = False
    try:
        if kind == "folders":
            folders = client.get_folders(space_id, archived=asked)
            hierarchy.write(org_id, _contents_rows(ws, space_id, run, now, folders, [], asked))
            progress.setdefault("folders", {}).update({f.id: _archived(f, asked) for f in folders})
            proved = asked and proves_all_items(folders)
        elif kind == "lists":
            folderless = client.get_folderless_lists(space_id, archived=asked)
            hierarchy.write(org_id, _contents_rows(ws, space_id, run, now, [], folderless, asked))
            proved = asked and proves_all_items(folderless)
        else:
            lists = client.get_folder_lists(target, archived=asked)
            hierarchy.write(org_id, [_list_row(ws, space_id, lst, target, run, now, asked) for lst in lists])
            proved = asked and proves_all_items(lists)
    except (NotFound, WorkspaceNotAuthorized):
        if kind != "folder" and not space_gone_ok:
            raise
        logger.info("hierarchy item gone during the sync", extra={"org_id": org_id, "space_id": space_id, "read": key})
    progress.setdefault("done", []).append(key)
    return proved


def _read_space(org_id: str, client: ClickUpClient, ws: str, space_id: str, run: str, all_items: bool = False) -> None:
    """Every read of one space's contents (a targeted refresh: 2 requests once a read proves "archived items
    too", else 4 + the space's folders)."""
    progress: dict[str, Any] = {}
    while (key := _next_read(progress, all_items)) is not None:
        all_items = _read_step(org_id, client, ws, space_id, run, key, progress) or all_items


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
    teams = client.get_teams()
    for team in teams:
        if team.id in authorized:
            members.put(org_id, team.id, team.member_rows)
    for ws in conn.authorized_workspace_ids:
        # A workspace the token no longer authorizes (narrowed by a later consent: absent from `GET /team`, or
        # refused with OAUTH_027/OAUTH_023) is marked `authorized: false` on the connection; the others sync.
        try:
            if ws not in {t.id for t in teams}:
                raise WorkspaceNotAuthorized(f"workspace {ws} not in GET /team", status=401)
            sync_workspace(org_id, ws, client, remaining_s)
        except WorkspaceNotAuthorized:
            if connection.workspace_not_authorized(org_id, ws, client, "space_sync", teams=teams):
                run = sync_state.get_run(org_id, ws)
                if run.get("status") == "running":  # a later authorization starts it afresh
                    sync_state.put_run(org_id, ws, {**run, "status": "idle"})
    connections.set_last_sync(org_id, utc_now_iso())
    sync_state.set_state(org_id, "idle")


def sync_workspace(org_id: str, ws: str, client: ClickUpClient, remaining_s: Callable[[], float]) -> None:
    """A full sync of one workspace: `GET /team/{ws}/space?archived=true` (and `archived=false` unless that
    answer proves the "archived items too" reading), then each space's contents (`_next_read`), checkpointed
    after every read in `SYNC#{ws}`; then the rows this run did not see are swept."""
    state = sync_state.get_run(org_id, ws)
    if state.get("status") != "running":
        run = uuid.uuid4().hex[:12]
        found = client.get_spaces(ws, archived=True)
        hierarchy.write(org_id, _space_rows(ws, run, utc_now_iso(), found, True))
        all_items = proves_all_items(found)
        spaces = [s.id for s in found]
        if not all_items:
            active = client.get_spaces(ws, archived=False)
            hierarchy.write(org_id, _space_rows(ws, run, utc_now_iso(), active, False))
            spaces = [s.id for s in active] + [i for i in spaces if i not in {s.id for s in active}]  # active first
        state = {
            "status": "running",
            "run": run,
            "spaces": spaces,
            "all_items": all_items,
            "done": 0,
            "space": {},
            "started_at": utc_now_iso(),
            "synced_at": state.get("synced_at"),
        }
        sync_state.put_run(org_id, ws, state)
    run, spaces = state["run"], list(state["spaces"])
    for index in range(int(state["done"]), len(spaces)):
        progress: dict[str, Any] = state.get("space") or {}
        while (key := _next_read(progress, bool(state.get("all_items")))) is not None:
            if remaining_s() < MIN_REMAINING_S:
                raise Interrupted(f"stopped at space {index}/{len(spaces)} of {ws}")
            if _read_step(org_id, client, ws, spaces[index], run, key, progress, space_gone_ok=True):
                state["all_items"] = True
            state["space"] = progress
            sync_state.put_run(org_id, ws, state)  # each read is its own checkpoint
        state.update(done=index + 1, space={})
        sync_state.put_run(org_id, ws, state)  # a retry resumes after this space
    _sweep(org_id, ws, [r for r in hierarchy.load(org_id, ws) if r.get("run") != run])
    state.update(status="idle", synced_at=utc_now_iso(), finished_at=utc_now_iso(), spaces=[], done=0, space={})
    sync_state.put_run(org_id, ws, state)
    metrics.add_metric(name="SpaceSyncCompleted", unit="Count", value=1)
    logger.info(
        "workspace synced",
        extra={"org_id": org_id, "workspace_id": ws, "spaces": len(spaces), "all_items": state.get("all_items")},
    )


def refresh(
    org_id: str,
    ws: str,
    space_id: str | None,
    list_id: str | None,
    folder_id: str | None,
    deleted: bool,
    remaining_s: Callable[[], float],
) -> None:
    """Targeted refresh of the one space a hierarchy webhook concerns: the space itself when the event is about
    it (`GET /space/{id}`), then its contents (`_read_space`); rows of the space not seen are swept."""
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
    known = [r for r in in_space if r["kind"] == "space"]
    try:
        if list_id is None and folder_id is None:  # the space itself was created or changed (name, archived)
            space = client.get_space(space_id)  # 1 request
            asked = bool(known and known[0].get("archived"))  # kept when the answer omits `archived`
            hierarchy.write(org_id, _space_rows(ws, run, utc_now_iso(), [space], asked))
        _read_space(org_id, client, ws, space_id, run)  # 2 requests, or 4 + F (see the module's docstring)
    except (WorkspaceNotAuthorized, NotFound):
        _sweep(org_id, ws, in_space)  # the space is gone
        return
    if list_id is not None or folder_id is not None:
        hierarchy.write(org_id, [{**r, "run": run} for r in known])
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
        queue_url=queue_url,
        tick_message=SyncTick(kind=message.kind, tick=tick_id, after=message.after),
        job=lambda org_id: SyncCheck(kind="check", org_id=org_id, tick=tick_id),
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
