"""The synced ClickUp hierarchy: `ORG#{org}` / `HIER#{ws}#S#{space}`, `…#F#{space}#{folder}`,
`…#L#{space}#{list}`, each stamped with the sync run that last saw it (mark-and-sweep)."""

from __future__ import annotations

from typing import Any

from bridge.repositories.table import main_table, org_pk, query_org


def prefix(workspace_id: str) -> str:
    return f"HIER#{workspace_id}#"


def space_key(ws: str, space_id: str) -> str:
    return f"{prefix(ws)}S#{space_id}"


def folder_key(ws: str, space_id: str, folder_id: str) -> str:
    return f"{prefix(ws)}F#{space_id}#{folder_id}"


def list_key(ws: str, space_id: str, list_id: str) -> str:
    return f"{prefix(ws)}L#{space_id}#{list_id}"


def write(org_id: str, rows: list[dict[str, Any]]) -> None:
    with main_table().batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for row in rows:
            batch.put_item(Item={"pk": org_pk(org_id), **row})


def load(org_id: str, workspace_id: str) -> list[dict[str, Any]]:
    return query_org(org_id, prefix(workspace_id))


def load_space(org_id: str, workspace_id: str, space_id: str) -> list[dict[str, Any]]:
    return [r for r in load(org_id, workspace_id) if r.get("space_id") == space_id]


def delete(org_id: str, rows: list[dict[str, Any]]) -> None:
    with main_table().batch_writer() as batch:
        for row in rows:
            batch.delete_item(Key={"pk": org_pk(org_id), "sk": row["sk"]})
