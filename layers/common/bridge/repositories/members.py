"""`ORG#{org}` / `MEMBERS#{ws}`: the user ids of a workspace's members, as ClickUp's `GET /team` lists them
(`teams[].members[].user.id`; api-samples/get-team.response.json). Cached like the hierarchy: written when the
organisation connects and refreshed by every full space sync; read to refuse an assignee who is not a member
(ClickUp would leave the task without them)."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.core.clock import utc_now_iso
from bridge.repositories.table import main_table, org_pk, plain


def _sk(workspace_id: str) -> str:
    return f"MEMBERS#{workspace_id}"


def put(org_id: str, workspace_id: str, user_ids: Iterable[int]) -> None:
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": _sk(workspace_id),
            "user_ids": sorted({int(u) for u in user_ids}),
            "synced_at": utc_now_iso(),
        }
    )


def get(org_id: str, workspace_id: str) -> set[int] | None:
    """The members' user ids; None when never read (the check is then left to ClickUp's answer)."""
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": _sk(workspace_id)}).get("Item")
    if not item:
        return None
    return {int(u) for u in plain(item).get("user_ids") or []}
