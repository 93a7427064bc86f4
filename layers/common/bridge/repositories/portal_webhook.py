"""`ORG#{org}` / `PORTAL_WEBHOOK`: the secret the bridge signs the organisation's pushed events with (a vault
envelope; the portal sees the secret once, when it is rotated)."""

from __future__ import annotations

from typing import Any

from bridge.repositories.table import main_table, org_pk, plain

SK = "PORTAL_WEBHOOK"


def get(org_id: str) -> dict[str, Any] | None:
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": SK}).get("Item")
    return plain(item) if item else None


def put(org_id: str, sealed_secret: dict[str, Any], rotated_at: str) -> None:
    main_table().put_item(Item={"pk": org_pk(org_id), "sk": SK, "secret": sealed_secret, "rotated_at": rotated_at})
