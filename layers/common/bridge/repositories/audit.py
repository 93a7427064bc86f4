"""`ORG#{org}` / `AUDIT#{ticket}#{ms}#{id}`: a ticket's audit trail, one row per change of its link (who or
what changed it, when, and the fields before and after)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from bridge.repositories.table import main_table, org_pk, query_org, storable


def row(
    org_id: str, ticket_id: str, actor: str, action: str, before: dict[str, Any], after: dict[str, Any]
) -> dict[str, Any]:
    """A null is kept where it is the change (a field cleared, or set from nothing): `updated {"priority":
    "urgent"} {"priority": null}`, never `{} {}`; nulls on both sides are left out."""
    now_ms = int(time.time() * 1000)

    def kept(side: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in side.items() if v is not None or other.get(k) is not None}

    return {
        "pk": org_pk(org_id),
        "sk": f"AUDIT#{ticket_id}#{now_ms:013d}#{uuid.uuid4().hex[:8]}",
        "ticket_id": ticket_id,
        "actor": actor,
        "action": action,
        "before": kept(before, after),
        "after": kept(after, before),
        "at_ms": now_ms,
    }


def record(org_id: str, ticket_id: str, actor: str, action: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    main_table().put_item(Item=storable(row(org_id, ticket_id, actor, action, before, after)))


def trail(org_id: str, ticket_id: str) -> list[dict[str, Any]]:
    return query_org(org_id, f"AUDIT#{ticket_id}#")
