"""`ORG#{org}` / `SWEEP#{workspace}`: how far the reconciliation sweep has read a workspace's task updates
(ClickUp's `date_updated`, ms), written after every page."""

from __future__ import annotations

from bridge.repositories.table import main_table, org_pk, plain


def get(org_id: str, workspace_id: str) -> int | None:
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": f"SWEEP#{workspace_id}"}).get("Item")
    return int(plain(item)["updated_ms"]) if item else None


def advance(org_id: str, workspace_id: str, updated_ms: int) -> None:
    """Never backwards: a slower, older sweep cannot undo a newer one's progress."""
    from bridge.repositories.table import is_conditional_failure

    try:
        main_table().put_item(
            Item={"pk": org_pk(org_id), "sk": f"SWEEP#{workspace_id}", "updated_ms": updated_ms},
            ConditionExpression="attribute_not_exists(updated_ms) OR updated_ms < :ms",
            ExpressionAttributeValues={":ms": updated_ms},
        )
    except Exception as exc:
        if not is_conditional_failure(exc):
            raise
