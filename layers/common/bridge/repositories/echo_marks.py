"""`ORG#{org}` / `ECHO#{task}#{field}#{value digest}`: each value the bridge itself wrote to a task field lately,
so the webhook that ClickUp sends back for our own change is recognised as an echo and not reported to the portal
as news. One row per value, not one per field: the echo of an earlier write can arrive after a later write.

Values are kept in their **canonical form** (`canonical`), because ClickUp sends back its own rendering of what we
wrote, not our bytes:

- status: ClickUp matches a status name without regard to case and stores the list's own spelling
  (`"In Progress"` written, `"in progress"` sent back): compared case-folded and trimmed;
- priority: written as a number 1-4, sent back as `{"id": "1", "priority": "urgent", ...}` (Task webhook payloads,
  developer.clickup.com/docs/webhooktaskpayloads; FACTS.md "Priority meaning"), or as `"1"`, or a name;
- due_date: ms as an int or a string of ms; ClickUp may round a date it stores, so a date is an echo of a write
  within `DATE_TOLERANCE_MS` of it (`is_echo_date`);
- assignees: ids as numbers or strings, compared as a sorted list of ints;
- comment: `comment_text` written, sent back as `text_content` ("…\\n") and as blocks whose texts join to it
  (taskCommentPosted payload, webhooktaskpayloads): compared with line endings, Unicode form and whitespace runs
  normalised and the ends trimmed;
- comment_id: the id ClickUp gave the comment we posted (a number or a string: `str`).

The task pipeline marks the canonical form of what it sends before the call (the webhook can be processed before
the answer arrives) and, after it, what ClickUp answered (the value ClickUp stored, the comment's id)."""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from typing import Any

from bridge.repositories.table import main_table, org_pk, plain, query_org

TTL_S = 15 * 60  # ClickUp retries a delivery for minutes at most
DATE_TOLERANCE_MS = 60_000  # a date ClickUp rounded (to the second or the minute) is still our write
_PRIORITY_NAMES = {1: "urgent", 2: "high", 3: "normal", 4: "low"}
_SPACES = re.compile(r"\s+")


def canonical(field: str, value: Any) -> Any:
    """The form of `value` in which what we wrote and what ClickUp sends back for it compare equal (see above)."""
    if value is None:
        return None
    if field == "status":
        name = value.get("status") if isinstance(value, dict) else value
        return None if name is None else str(name).strip().casefold()
    if field == "priority":
        return priority_name(value)
    if field == "due_date":
        return _int_or_none(value)
    if field == "assignees":
        return sorted({int(v) for v in value})
    if field == "comment":
        return comment_text(value)
    if field == "comment_id":
        return str(value).strip()
    return value


def priority_name(value: Any) -> str | None:
    """`1`, `"1"`, `"urgent"`, `{"id": "1", "priority": "urgent"}` → `"urgent"`; anything else → None."""
    if isinstance(value, dict):
        name = str(value.get("priority") or "").strip().casefold()
        if name in _PRIORITY_NAMES.values():
            return name
        value = value.get("id")
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().casefold()
    if text in _PRIORITY_NAMES.values():
        return text
    return _PRIORITY_NAMES.get(int(text)) if text.isdigit() else None


def comment_text(value: Any) -> str:
    """A comment's text as compared: `comment_text`, `text_content` or ClickUp's blocks (`[{"text": …}, …]`)."""
    if isinstance(value, list):
        value = "".join(str(part.get("text") or "") for part in value if isinstance(part, dict))
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return _SPACES.sub(" ", text).strip()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


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
    seen = _int_or_none(value)
    if seen is None:
        return False
    marks = written(org_id, task_id, "due_date")
    return any(ms is not None and abs(int(ms) - seen) <= DATE_TOLERANCE_MS for ms in marks)
