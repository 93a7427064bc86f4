"""`OAUTH_STATE#{sha256(state)}` / `STATE`: one OAuth flow, used once, expiring.

Only the state's hash is stored, so a table reader cannot complete someone's flow. The first callback claims the
row atomically (`used_at` set under `attribute_not_exists(used_at)`): a second callback with the same state never
exchanges a code. The row is kept until it expires (the table's TTL removes it later) with the claim's `outcome`
(`connected`, or the reason it failed), so a reloaded callback can be answered with what really happened.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from bridge.repositories.table import is_conditional_failure, main_table, plain

SK = "STATE"


def state_hash(state: str) -> str:
    """The SHA-256 (hex) a state is stored under; `state` must be ASCII (checked by the caller)."""
    return hashlib.sha256(state.encode("ascii")).hexdigest()


def _key(state: str) -> dict[str, str]:
    return {"pk": f"OAUTH_STATE#{state_hash(state)}", "sk": SK}


def create(state: str, org_id: str, user_id: str, return_to: str, expires_at: int) -> None:
    """A new flow; `expires_at` in epoch seconds (UTC), also the row's TTL."""
    main_table().put_item(
        Item={**_key(state), "org_id": org_id, "user_id": user_id, "return_to": return_to, "expires_at": expires_at},
        ConditionExpression="attribute_not_exists(pk)",
    )


def claim(state: str) -> dict[str, Any] | None:
    """The flow bound to `state`, marked used so no other callback can claim it; None if unknown or used before
    (then `read` tells what became of it)."""
    try:
        answer = main_table().update_item(
            Key=_key(state),
            UpdateExpression="SET used_at = :now",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at)",
            ExpressionAttributeValues={":now": int(time.time())},
            ReturnValues="ALL_NEW",
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return None
        raise
    return plain(answer.get("Attributes")) or None


def read(state: str) -> dict[str, Any] | None:
    """The flow as stored (consistent read), or None when unknown (or removed by the TTL)."""
    item = main_table().get_item(Key=_key(state), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def finish(state: str, outcome: str) -> None:
    """Record how the claimed flow ended: `connected` or the failure's reason."""
    main_table().update_item(
        Key=_key(state),
        UpdateExpression="SET outcome = :o",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":o": outcome},
    )
