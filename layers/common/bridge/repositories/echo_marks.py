"""`ORG#{org}` / `ECHO#{task}#{field}#{value digest}`: each value the bridge itself wrote to a task field lately,
so the webhook that ClickUp sends back for our own change is recognised as an echo and not reported to the portal
as news. One row per value, not one per field: the echo of an earlier write can arrive after a later write.

Values are kept in their **canonical form** (`canonical`, in `bridge.core.echo_forms`, pure), because ClickUp sends
back its own rendering of what we wrote, not our bytes:

status case-folded, priority as its number, dates within a tolerance, assignees as sorted ints, comments with
whitespace and Unicode form normalised, comment ids as strings (each rule and its source: `bridge.core.echo_forms`).

The task pipeline marks the canonical form of what it sends before the call (the webhook can be processed before
the answer arrives) and, after it, what ClickUp answered (the value ClickUp stored, the comment's id)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from bridge.core.echo_forms import (  # noqa: F401 (re-exported: the forms are the marks' own)
    DATE_TOLERANCE_MS,
    canonical,
    comment_text,
    int_or_none,
    is_echo_date_among,
    priority_name,
)
from bridge.repositories.table import main_table, org_pk, plain, query_org

TTL_S = 15 * 60  # ClickUp retries a delivery for minutes at most


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _sk(task_id: str, field: str, value: Any | None = None, *, raw: bool = False) -> str:
    prefix = f"ECHO#{task_id}#{field}#"
    if raw:
        return prefix
    return prefix + hashlib.sha256(_value(canonical(field, value)).encode()).hexdigest()[:32]


def mark(org_id: str, task_id: str, field: str, value: Any) -> None:
    """Record that the bridge wrote `value` (any of the forms above) to the task's field, for TTL_S."""
    now = time.time()
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": _sk(task_id, field, value),
            "value": _value(canonical(field, value)),
            "at_ms": int(now * 1000),
            "expires_at": int(now + TTL_S),
        }
    )


def written(org_id: str, task_id: str, field: str) -> list[Any]:
    """The canonical values the bridge wrote to the field within TTL_S (DynamoDB's TTL deletes rows late: read
    past it)."""
    now = time.time()
    rows = query_org(org_id, _sk(task_id, field, raw=True))
    return [json.loads(row["value"]) for row in rows if row["expires_at"] > now]


def is_echo(org_id: str, task_id: str, field: str, value: Any) -> bool:
    """Whether `value`, in whatever form ClickUp sent it, is one the bridge wrote to the field lately."""
    if field == "due_date" and value is not None:
        return is_echo_date(org_id, task_id, value)
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": _sk(task_id, field, value)}).get("Item")
    return bool(item) and plain(item)["expires_at"] > time.time()


def is_echo_date(org_id: str, task_id: str, value: Any) -> bool:
    """A date (ms) within DATE_TOLERANCE_MS of one the bridge wrote: ClickUp's rounding of our own write."""
    if int_or_none(value) is None:
        return False
    return is_echo_date_among(value, written(org_id, task_id, "due_date"))
