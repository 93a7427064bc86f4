"""The organisation's task settings checked against its synced hierarchy: which list a customer's tickets go
to, and which ClickUp status (of that list's own statuses) a portal status means."""

from __future__ import annotations

from typing import Any

from bridge.connection import service as connection
from bridge.core.errors import Unprocessable
from bridge.repositories import hierarchy
from bridge.repositories.connections import Connection
from bridge.repositories.org_settings import OrgSettings
from bridge.tasks import lists as rules


def _rows(org_id: str, conn: Connection | None = None) -> list[dict[str, Any]]:
    conn = conn or connection.current(org_id)
    return [row for ws in conn.authorized_workspace_ids for row in hierarchy.load(org_id, ws)]


def _lists(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows if r["kind"] == "list"}


def check(org_id: str, value: OrgSettings) -> OrgSettings:
    """Reject settings that point at lists or statuses the organisation's hierarchy does not have; return them
    with each mapped status in its list's own spelling.

    ClickUp matches a status name without regard to case and answers (and sends webhooks) with the list's own
    spelling (`GET /list/{id}` `statuses[].status`), so a mapping to `"In Progress"` of a list whose status is
    `"in progress"` is accepted and stored as `"in progress"`: what the bridge writes is then what ClickUp echoes."""
    if not (value.status_mapping or value.space_default_lists):
        return value
    rows = _rows(org_id)
    lists = _lists(rows)
    spaces = {r["id"] for r in rows if r["kind"] == "space"}
    for space_id, list_id in value.space_default_lists.items():
        if space_id not in spaces:
            raise Unprocessable(f"space {space_id} is not in the synced hierarchy", code="space_not_found")
        if list_id not in lists or lists[list_id]["space_id"] != space_id:
            raise Unprocessable(f"list {list_id} is not in space {space_id}", code="list_not_in_space")
        if rules.archived_list(rows, lists[list_id]):
            raise Unprocessable(f"list {list_id} (or its folder) is archived", code="list_archived")
    canonical: dict[str, dict[str, str]] = {}
    for list_id, mapping in value.status_mapping.items():
        if list_id not in lists:
            raise Unprocessable(f"list {list_id} is not in the synced hierarchy", code="list_not_found")
        known = {rules.fold(s["status"]): str(s["status"]) for s in lists[list_id].get("statuses", [])}
        canonical[list_id] = {}
        for portal_status, clickup_status in mapping.items():
            if rules.fold(clickup_status) not in known:
                raise Unprocessable(
                    f"status {clickup_status!r} (for {portal_status!r}) is not a status of list {list_id}; "
                    f"it has: {sorted(known.values())}",
                    code="status_not_in_list",
                )
            canonical[list_id][portal_status] = known[rules.fold(clickup_status)]
    return value.model_copy(update={"status_mapping": canonical})


def resolve_list(org_id: str, customer: dict[str, Any] | None, value: OrgSettings) -> str | None:
    """The customer's assigned list; else its space's default list (settings); else the space's first list that is
    neither archived nor in an archived folder (decided by `lists.choose_list` and `lists.first_open_list`)."""
    decided = rules.choose_list(customer, value.space_default_lists)
    if decided.source != "first_list":
        return decided.list_id
    assert customer is not None and decided.space_id is not None
    return rules.first_open_list(hierarchy.load_space(org_id, customer["workspace_id"], decided.space_id))


def clickup_status(
    org_id: str, list_id: str, portal_status: str, value: OrgSettings, conn: Connection | None = None
) -> str:
    """The ClickUp status a portal status means in this list, in the list's own spelling: the mapping (settings
    stored before mappings were kept in that spelling are read through the list's statuses), else a status of the
    same name."""
    mapped = value.status_mapping.get(list_id, {}).get(portal_status)
    statuses = [str(s["status"]) for s in _lists(_rows(org_id, conn)).get(list_id, {}).get("statuses", [])]
    found = rules.status_in_list(statuses, mapped or portal_status)
    if found is not None:
        return found
    if mapped:
        return mapped  # the hierarchy does not (yet) know the list: ClickUp resolves the name, ignoring case
    raise Unprocessable(
        f"portal status {portal_status!r} has no ClickUp status in list {list_id}; map it in the settings",
        code="status_not_mapped",
    )
