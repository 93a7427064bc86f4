"""Sync bookkeeping: `ORG#{org}` / `SYNC` (queued | running | idle: coalesces requests) and
`ORG#{org}` / `SYNC#{ws}` (the run in progress and its checkpoint, and when the workspace was last synced)."""

from __future__ import annotations

import time
from typing import Any

from bridge.repositories.table import is_conditional_failure, main_table, org_pk, plain

LEASE_S = 300  # a "queued"/"running" mark older than this is presumed lost


def claim_request(org_id: str) -> bool:
    """Mark a sync as queued unless one is already queued or running (and fresh). True: send the message."""
    now = int(time.time())
    try:
        main_table().put_item(
            Item={"pk": org_pk(org_id), "sk": "SYNC", "state": "queued", "updated_at": now},
            ConditionExpression="attribute_not_exists(pk) OR #s = :idle OR updated_at < :stale",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":idle": "idle", ":stale": now - LEASE_S},
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def set_state(org_id: str, state: str) -> None:
    main_table().put_item(Item={"pk": org_pk(org_id), "sk": "SYNC", "state": state, "updated_at": int(time.time())})


def get_state(org_id: str) -> dict[str, Any]:
    return plain(main_table().get_item(Key={"pk": org_pk(org_id), "sk": "SYNC"}).get("Item") or {})


def get_run(org_id: str, workspace_id: str) -> dict[str, Any]:
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": f"SYNC#{workspace_id}"}, ConsistentRead=True)
    return plain(item.get("Item") or {})


def put_run(org_id: str, workspace_id: str, run: dict[str, Any]) -> None:
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": f"SYNC#{workspace_id}",
            **{k: v for k, v in run.items() if k not in ("pk", "sk")},
        }
    )
