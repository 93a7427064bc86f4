"""Our ClickUp webhooks: `ORG#{org}` / `WEBHOOK#{workspace}` (id, secret envelope, health) and the lookup row
`WEBHOOK#{webhook_id}` / `META` (organisation and workspace) that ingestion uses to find the secret."""

from __future__ import annotations

from typing import Any

from bridge.repositories.table import main_table, org_pk, plain, query_org

PREFIX = "WEBHOOK#"


def put(org_id: str, workspace_id: str, record: dict[str, Any]) -> None:
    table = main_table()
    table.put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": f"{PREFIX}{workspace_id}",
            "org_id": org_id,
            "workspace_id": workspace_id,
            **{k: v for k, v in record.items() if v is not None},
        }
    )
    if record.get("webhook_id"):
        table.put_item(
            Item={"pk": f"{PREFIX}{record['webhook_id']}", "sk": "META", "org_id": org_id, "workspace_id": workspace_id}
        )


def list_for(org_id: str) -> list[dict[str, Any]]:
    return query_org(org_id, PREFIX)


def lookup(webhook_id: str) -> dict[str, Any] | None:
    meta = main_table().get_item(Key={"pk": f"{PREFIX}{webhook_id}", "sk": "META"}).get("Item")
    if not meta:
        return None
    row = main_table().get_item(Key={"pk": org_pk(meta["org_id"]), "sk": f"{PREFIX}{meta['workspace_id']}"}).get("Item")
    if not row or row.get("webhook_id") != webhook_id:
        return None
    return plain(row)


def delete(org_id: str, workspace_id: str, webhook_id: str | None) -> None:
    table = main_table()
    table.delete_item(Key={"pk": org_pk(org_id), "sk": f"{PREFIX}{workspace_id}"})
    if webhook_id:
        table.delete_item(Key={"pk": f"{PREFIX}{webhook_id}", "sk": "META"})
