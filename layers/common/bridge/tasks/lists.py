"""Which ClickUp list a ticket's task is created in, and which of a list's statuses a name means (pure: no I/O).

Rows are the synced hierarchy's (`bridge.repositories.hierarchy`): `{"kind": "space"|"folder"|"list", "id",
"space_id", "folder_id"?, "archived"?, "orderindex"?, "statuses"?: [{"status"}]}`; a customer's assignment is
`bridge.repositories.assignments`' row: `{"workspace_id", "space_id", "list_id"?, "status"?: "broken"}`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class ListChoice:
    """Where a customer's tickets go, as far as the assignment and the settings say:

    - `none`: no assignment (never made, or deleted), or a broken one (ClickUp deleted its space or list);
    - `assignment`: the list the customer was assigned (`list_id`);
    - `space_default`: the settings' default list of the customer's space (`list_id`);
    - `first_list`: the space's first open list, read from the space's rows (`workspace_id`, `space_id`;
      `first_open_list`)."""

    source: Literal["none", "assignment", "space_default", "first_list"]
    list_id: str | None = None
    workspace_id: str | None = None
    space_id: str | None = None


def choose_list(customer: Mapping[str, Any] | None, space_default_lists: Mapping[str, str]) -> ListChoice:
    """The customer's assigned list; else its space's default list (`space_default_lists`: space id → list id,
    the organisation's settings); else the space's first open list (read by the caller)."""
    if not customer or customer.get("status") == "broken":
        return ListChoice("none")
    if customer.get("list_id"):
        return ListChoice("assignment", str(customer["list_id"]))
    space_id = customer["space_id"]
    if space_default_lists.get(space_id):
        return ListChoice("space_default", space_default_lists[space_id])
    return ListChoice("first_list", workspace_id=customer.get("workspace_id"), space_id=space_id)


def first_open_list(rows: Iterable[Mapping[str, Any]]) -> str | None:
    """A space's first list that is neither archived nor in an archived folder: the folderless lists first (by
    ClickUp's `orderindex`), else the lists in folders; None when there is none."""
    rows = list(rows)
    archived_folders = {r["id"] for r in rows if r["kind"] == "folder" and r.get("archived")}
    in_space = [
        r for r in rows if r["kind"] == "list" and not r.get("archived") and r.get("folder_id") not in archived_folders
    ]
    folderless = sorted((r for r in in_space if not r.get("folder_id")), key=lambda r: r.get("orderindex", 0))
    foldered = sorted((r for r in in_space if r.get("folder_id")), key=lambda r: r.get("orderindex", 0))
    candidates = folderless or foldered
    return str(candidates[0]["id"]) if candidates else None


def archived_list(rows: Iterable[Mapping[str, Any]], lst: Mapping[str, Any]) -> bool:
    """An archived list, or one in an archived folder: no new task goes there."""
    folder_id = lst.get("folder_id")
    return bool(lst.get("archived")) or any(
        r["kind"] == "folder" and r["id"] == folder_id and r.get("archived") for r in rows if folder_id
    )


def fold(name: str) -> str:
    """A status name as ClickUp matches it: without regard to case, the ends trimmed."""
    return name.strip().casefold()


def status_in_list(statuses: Iterable[str], wanted: str) -> str | None:
    """The list's own spelling of the status `wanted` names (ClickUp matches status names ignoring case:
    `"In Progress"` → `"in progress"`); None when the list has no such status."""
    for status in statuses:
        if fold(status) == fold(wanted):
            return status
    return None
