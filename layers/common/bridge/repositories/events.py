"""`ORG#{org}` / `EVENT#{ms}#{id}`: the organisation's portal event feed, in order, expiring after 30 days."""

from __future__ import annotations

from typing import Any

from bridge.repositories.table import main_table, org_pk

RETENTION_S = 30 * 86400


def append(event: dict[str, Any], occurred_ms: int) -> str:
    sk = f"EVENT#{occurred_ms:013d}#{event['id']}"
    main_table().put_item(
        Item={"pk": org_pk(event["org_id"]), "sk": sk, "event": event, "expires_at": occurred_ms // 1000 + RETENTION_S}
    )
    return sk
