"""`ORG#{org}` / `MEMBERS#{ws}`: the members of a workspace as ClickUp's `GET /team` lists them
(`teams[].members[].user`: id, username, email, initials, role; api-samples/get-team.response.json and ClickUp's
TeamMember schema). Cached like the hierarchy: written when the organisation connects and refreshed by every full
space sync; read by `GET /api/v1/clickup/members` (assignee pickers) and to refuse an assignee who is not a member
(ClickUp would leave the task without them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bridge.core.clock import utc_now_iso
from bridge.repositories.table import main_table, org_pk, plain

_FIELDS = ("username", "email", "initials", "role")


def _sk(workspace_id: str) -> str:
    return f"MEMBERS#{workspace_id}"


def put(org_id: str, workspace_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Replace the workspace's members (`rows`: `{"id": int, "username", "email", "initials", "role"}`)."""
    members = sorted(
        ({"id": int(r["id"]), **{k: r[k] for k in _FIELDS if r.get(k) is not None}} for r in rows),
        key=lambda m: m["id"],
    )
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": _sk(workspace_id),
            "user_ids": [m["id"] for m in members],
            "members": members,
            "synced_at": utc_now_iso(),
        }
    )


def _item(org_id: str, workspace_id: str) -> dict[str, Any] | None:
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": _sk(workspace_id)}).get("Item")
    return plain(item) if item else None


def get(org_id: str, workspace_id: str) -> set[int] | None:
    """The members' user ids; None when never read (the check is then left to ClickUp's answer)."""
    item = _item(org_id, workspace_id)
    if not item:
        return None
    return {int(u) for u in item.get("user_ids") or []}


def listing(org_id: str, workspace_id: str) -> tuple[list[dict[str, Any]], str | None] | None:
    """The members (`[{"id": int, "username", "email", "initials", "role"}]`, by id) and when they were read
    (ISO-8601 UTC); None when never read. Rows written before the fields were stored hold only ids."""
    item = _item(org_id, workspace_id)
    if not item:
        return None
    rows = item.get("members")
    if rows is None:
        rows = [{"id": int(u)} for u in item.get("user_ids") or []]
    members = [{"id": int(r["id"]), **{k: r.get(k) for k in _FIELDS}} for r in rows]
    return members, item.get("synced_at")
