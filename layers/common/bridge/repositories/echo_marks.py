"""`ORG#{org}` / `ECHO#{task}#{field}`: what the bridge itself last wrote to a task field, so the webhook that
ClickUp sends back for our own change is recognised as an echo and not reported to the portal as news."""

from __future__ import annotations

import json
import time
from typing import Any

from bridge.repositories.table import main_table, org_pk, plain

TTL_S = 15 * 60  # ClickUp retries a delivery for minutes at most


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def mark(org_id: str, task_id: str, field: str, value: Any) -> None:
    now = time.time()
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": f"ECHO#{task_id}#{field}",
            "value": _value(value),
            "at_ms": int(now * 1000),
            "expires_at": int(now + TTL_S),
        }
    )


def marked(org_id: str, task_id: str, field: str) -> tuple[bool, Any]:
    """(True, value) if the bridge wrote `value` to the field within TTL_S; (False, None) otherwise."""
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": f"ECHO#{task_id}#{field}"}).get("Item")
    if not item:
        return False, None
    row = plain(item)
    if row["expires_at"] <= time.time():
        return False, None
    return True, json.loads(row["value"])


def is_echo(org_id: str, task_id: str, field: str, value: Any) -> bool:
    found, written = marked(org_id, task_id, field)
    return found and _value(written) == _value(value)
