"""The hierarchy as the portal reads it (from our store, never ClickUp inline) and customer assignments."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from bridge.connection import service as connection
from bridge.core.clock import utc_now_iso
from bridge.core.errors import NotFound, Unprocessable
from bridge.repositories import assignments, hierarchy, members, sync_state
from bridge.sync.service import STALE_AFTER_S, request_sync


def _workspace(org_id: str, workspace_id: str | None) -> str:
    _settings, conn = connection.require_connected(org_id)
    ws = workspace_id or conn.default_workspace_id
    if not ws or ws not in conn.authorized_workspace_ids:
        raise NotFound("no such authorized workspace", code="workspace_not_found")
    return ws


def tree(org_id: str, workspace_id: str | None, include_archived: bool) -> dict[str, Any]:
    ws = _workspace(org_id, workspace_id)
    run = sync_state.get_run(org_id, ws)
    synced_at = run.get("synced_at")
    rows = hierarchy.load(org_id, ws)
    if not synced_at:
        queued = request_sync(org_id, "first_read")
        return {
            "workspace_id": ws,
            "synced_at": None,
            "stale": True,
            "spaces": [],
            "sync": "queued" if queued else "in_progress",
        }
    age = time.time() - datetime.fromisoformat(synced_at.replace("Z", "+00:00")).timestamp()
    return {
        "workspace_id": ws,
        "synced_at": synced_at,
        "stale": age > STALE_AFTER_S,
        "spaces": hierarchy_tree(rows, include_archived),
    }


def hierarchy_tree(rows: list[dict[str, Any]], include_archived: bool) -> list[dict[str, Any]]:
    """The workspace's spaces by name (case-insensitive), each with its folders and its folderless lists, each
    folder with its lists, from the stored hierarchy rows; archived ones only with `include_archived`. A folder or
    list whose parent is left out (archived, or not stored) is left out too. Pure."""

    def shown(row: dict[str, Any], kind: str) -> bool:
        return row["kind"] == kind and (include_archived or not row.get("archived"))

    spaces: dict[str, dict[str, Any]] = {
        r["id"]: {"id": r["id"], "name": r["name"], "archived": bool(r.get("archived")), "folders": [], "lists": []}
        for r in rows
        if shown(r, "space")
    }
    folders: dict[str, dict[str, Any]] = {
        r["id"]: {"id": r["id"], "name": r["name"], "lists": [], "_space": r["space_id"]}
        for r in rows
        if shown(r, "folder")
    }
    for r in rows:
        if not shown(r, "list"):
            continue
        item = {"id": r["id"], "name": r["name"], "statuses": r.get("statuses", [])}
        parent = folders.get(r["folder_id"]) if r.get("folder_id") else spaces.get(r["space_id"])
        if parent is not None:
            parent["lists"].append(item)
    for folder in folders.values():
        space_id = folder.pop("_space")
        if space_id in spaces:
            spaces[space_id]["folders"].append(folder)
    return sorted(spaces.values(), key=lambda s: s["name"].lower())


def workspace_members(org_id: str, workspace_id: str | None) -> dict[str, Any]:
    """The members of an authorized workspace (the default one when `workspace_id` is None), from our store:
    `{"workspace_id", "synced_at", "members": [{"id", "username", "email", "initials", "role"}]}`. Read from
    ClickUp's `GET /team` when the organisation connects and by every full space sync; never read yet: `members`
    is empty and a sync is queued (`sync`: queued | in_progress). 404 `workspace_not_found` for a workspace the
    connection does not authorize (another organisation's included: nothing is revealed), 409 when not connected."""
    ws = _workspace(org_id, workspace_id)
    found = members.listing(org_id, ws)
    if found is None:
        queued = request_sync(org_id, "first_read")
        return {"workspace_id": ws, "synced_at": None, "members": [], "sync": "queued" if queued else "in_progress"}
    rows, synced_at = found
    return {"workspace_id": ws, "synced_at": synced_at, "members": rows}


def _find(rows: list[dict[str, Any]], kind: str, item_id: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["kind"] == kind and r["id"] == item_id), None)


def assign(org_id: str, customer_id: str, space_id: str, list_id: str | None) -> dict[str, Any]:
    _settings, conn = connection.require_connected(org_id)
    for ws in conn.authorized_workspace_ids:
        rows = hierarchy.load(org_id, ws)
        space = _find(rows, "space", space_id)
        if space is None:
            continue
        if space.get("archived"):
            raise Unprocessable("that space is archived", code="space_archived")
        if list_id is not None:
            lst = _find(rows, "list", list_id)
            if lst is None:
                raise NotFound("no such list in the synced hierarchy", code="list_not_found")
            if lst["space_id"] != space_id:
                raise Unprocessable("that list is not in that space", code="list_not_in_space")
            folder = _find(rows, "folder", str(lst["folder_id"])) if lst.get("folder_id") else None
            if lst.get("archived") or (folder is not None and folder.get("archived")):
                raise Unprocessable("that list (or its folder) is archived", code="list_archived")
        record = {
            "workspace_id": ws,
            "space_id": space_id,
            "list_id": list_id,
            "status": "ok",
            "updated_at": utc_now_iso(),
        }
        assignments.put(org_id, customer_id, record)
        return view(org_id, customer_id)
    raise NotFound("no such space in the synced hierarchy (sync first?)", code="space_not_found")


def view(org_id: str, customer_id: str) -> dict[str, Any]:
    record = assignments.get(org_id, customer_id)
    if record is None:
        raise NotFound("this customer has no ClickUp space", code="assignment_not_found")
    return {
        "customer_id": customer_id,
        "workspace_id": record["workspace_id"],
        "space_id": record["space_id"],
        "list_id": record.get("list_id"),
        "status": record.get("status", "ok"),
        "broken_reason": record.get("broken_reason"),
        "updated_at": record.get("updated_at"),
    }


def unassign(org_id: str, customer_id: str) -> None:
    if not assignments.delete(org_id, customer_id):
        raise NotFound("this customer has no ClickUp space", code="assignment_not_found")
