"""Customer assignments: which ClickUp space (and, optionally, list) a portal customer's tickets go to, checked
against the synced hierarchy of the organisation's authorized workspaces."""

from __future__ import annotations

from typing import Any

from bridge.connection import service as connection
from bridge.core.clock import utc_now_iso
from bridge.core.errors import NotFound, Unprocessable
from bridge.repositories import assignments, hierarchy


def _find(rows: list[dict[str, Any]], kind: str, item_id: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["kind"] == kind and r["id"] == item_id), None)


def assign(org_id: str, customer_id: str, space_id: str, list_id: str | None) -> dict[str, Any]:
    """Assign the customer to a space of an authorized workspace (and a list of it); answers the assignment as
    `view` does. 404 `space_not_found` / `list_not_found` (not in the synced hierarchy), 422 `space_archived`,
    `list_not_in_space`, `list_archived` (the list or its folder); 409 when not connected."""
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
    """The customer's assignment: `{"customer_id", "workspace_id", "space_id", "list_id", "status",
    "broken_reason", "updated_at"}`. 404 `assignment_not_found`."""
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
    """Remove the customer's assignment. 404 `assignment_not_found` when it has none."""
    if not assignments.delete(org_id, customer_id):
        raise NotFound("this customer has no ClickUp space", code="assignment_not_found")
