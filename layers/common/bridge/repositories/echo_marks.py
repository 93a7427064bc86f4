"""`ORG#{org}` / `ECHO#{task}#{field}#{value digest}`: each value the bridge itself wrote to a task field lately,
so the webhook that ClickUp sends back for our own change is recognised as an echo and not reported to the portal
as news. One row per value, not one per field: the echo of an earlier write can arrive after a later write."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from bridge.repositories.table import main_table, org_pk, plain, query_org

TTL_S = 15 * 60  # ClickUp retries a delivery for minutes at most


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _sk(task_id: str, field: str, value: Any | None = None) -> str:
    prefix = f"ECHO#{task_id}#{field}#"
    return prefix if value is None else prefix + hashlib.sha256(_value(value).encode()).hexdigest()[:32]


def mark(org_id: str, task_id: str, field: str, value: Any) -> None:
    now = time.time()
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": _sk(task_id, field, value),
            "value": _value(value),
            "at_ms": int(now * 1000),
            "expires_at": int(now + TTL_S),
        }
    )


def written(org_id: str, task_id: str, field: str) -> list[Any]:
    """The values the bridge wrote to the field within TTL_S (DynamoDB's TTL deletes rows late: read past it)."""
    now = time.time()
    return [json.loads(row["value"]) for row in query_org(org_id, _sk(task_id, field)) if row["expires_at"] > now]


def is_echo(org_id: str, task_id: str, field: str, value: Any) -> bool:
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": _sk(task_id, field, value)}).get("Item")
    return bool(item) and plain(item)["expires_at"] > time.time()
