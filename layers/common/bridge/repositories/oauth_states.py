"""`OAUTH_STATE#{sha256(state)}` / `STATE`: one pending OAuth flow, single use, expiring.

Only the state's hash is stored, so a table reader cannot complete someone's flow. Consuming deletes the row
atomically: a replayed state finds nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bridge.repositories.table import is_conditional_failure, main_table, plain


def _key(state: str) -> dict[str, str]:
    return {"pk": f"OAUTH_STATE#{hashlib.sha256(state.encode()).hexdigest()}", "sk": "STATE"}


def create(state: str, org_id: str, user_id: str, return_to: str, expires_at: int) -> None:
    main_table().put_item(
        Item={**_key(state), "org_id": org_id, "user_id": user_id, "return_to": return_to, "expires_at": expires_at},
        ConditionExpression="attribute_not_exists(pk)",
    )


def consume(state: str) -> dict[str, Any] | None:
    """The flow bound to `state`, removed so it can never be used again; None if unknown or used."""
    try:
        answer = main_table().delete_item(
            Key=_key(state), ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD"
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return None
        raise
    return plain(answer.get("Attributes")) or None
