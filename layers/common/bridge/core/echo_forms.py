"""The forms in which a value the bridge wrote to a ClickUp task and what ClickUp sends back for it compare equal
(pure: no I/O). The echo marks (`bridge.repositories.echo_marks`) store values in these forms; the webhook
processing compares ClickUp's values in them.

- status: ClickUp matches a status name without regard to case and stores the list's own spelling
  (`"In Progress"` written, `"in progress"` sent back): compared case-folded and trimmed;
- priority: written as a number 1-4, sent back as `{"id": "1", "priority": "urgent", ...}` (Task webhook payloads,
  developer.clickup.com/docs/webhooktaskpayloads; FACTS.md "Priority meaning"), or as `"1"`, or a name;
- due_date: ms as an int or a string of ms; ClickUp may round a date it stores, so a date is an echo of a write
  within `DATE_TOLERANCE_MS` of it (`is_echo_date_among`);
- assignees: ids as numbers or strings, compared as a sorted list of ints;
- comment: `comment_text` written, sent back as `text_content` ("…\\n") and as blocks whose texts join to it
  (taskCommentPosted payload, webhooktaskpayloads): compared with line endings, Unicode form and whitespace runs
  normalised and the ends trimmed;
- comment_id: the id ClickUp gave the comment we posted (a number or a string: `str`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

DATE_TOLERANCE_MS = 60_000  # a date ClickUp rounded (to the second or the minute) is still our write
PRIORITY_NAMES = {1: "urgent", 2: "high", 3: "normal", 4: "low"}
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
        return int_or_none(value)
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
        if name in PRIORITY_NAMES.values():
            return name
        value = value.get("id")
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().casefold()
    if text in PRIORITY_NAMES.values():
        return text
    return PRIORITY_NAMES.get(int(text)) if text.isdigit() else None


def comment_text(value: Any) -> str:
    """A comment's text as compared: `comment_text`, `text_content` or ClickUp's blocks (`[{"text": …}, …]`)."""
    if isinstance(value, list):
        value = "".join(str(part.get("text") or "") for part in value if isinstance(part, dict))
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return _SPACES.sub(" ", text).strip()


def int_or_none(value: Any) -> int | None:
    """ms as ClickUp sends them (an int, a string of digits; null or `""`: none); anything else → None."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def is_echo_date_among(value: Any, written_ms: Iterable[Any]) -> bool:
    """Whether a date ClickUp sent (ms, any form) is within DATE_TOLERANCE_MS of one the bridge wrote
    (`written_ms`: the marks' canonical values; None entries: a cleared date, never a match)."""
    seen = int_or_none(value)
    if seen is None:
        return False
    return any(ms is not None and abs(int(ms) - seen) <= DATE_TOLERANCE_MS for ms in written_ms)
