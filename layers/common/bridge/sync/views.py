"""The hierarchy and the workspace members as the portal reads them (from our store, never ClickUp inline). Reads
only: customer assignments are written by `bridge.sync.customers`."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from bridge.connection import service as connection
from bridge.core.errors import NotFound
from bridge.repositories import hierarchy, members, sync_state
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
