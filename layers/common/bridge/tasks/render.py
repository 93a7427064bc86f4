"""How a portal ticket becomes a ClickUp task body: the name, the markdown description, priorities, due dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRIORITIES = {"urgent": 1, "high": 2, "normal": 3, "low": 4}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}
# A date-only due date is placed at noon of that day in the workspace's time zone: it reads as the same calendar
# day for anyone within ±11 h of it (midnight would show as the day before to everyone west of the zone).
DATE_ONLY_HOUR = 12
# Dates the bridge accepts anywhere (due dates, date custom fields): ClickUp stores ms since 1970 (FACTS.md: "dates
# are Unix time in milliseconds"); a year before 1970 becomes a negative date and one past 2100 is a typo.
MIN_YEAR, MAX_YEAR = 1970, 2100
TITLE_MAX = 900  # characters of the portal's title kept in the task name (after the `[TICKET-…]` prefix)
TAG_MAX = 100  # characters of one tag name
_SPACES = re.compile(r"\s+")


class DateOutOfRange(ValueError):
    """A date outside MIN_YEAR..MAX_YEAR (UTC or in its own offset)."""


def one_line(text: str) -> str:
    """`text` on one line: every control character (newlines, tabs, NUL, DEL, C1) and every run of white space
    becomes one space, then trimmed. ClickUp's task names are one line in every view; a newline in one is a
    broken name."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return _SPACES.sub(" ", cleaned).strip()


# What no reader sees: controls, format characters (zero-width space, joiners, bidi marks), separators and white
# space, surrogates, unassigned code points (Unicode general categories).
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Cn", "Zs", "Zl", "Zp"})


def has_visible(text: str) -> bool:
    """Whether `text` holds at least one character a reader sees (not only controls, zero-width or bidi marks,
    separators and white space): `"\u200b"` or `"\x00"` do not."""
    return any(unicodedata.category(ch) not in _INVISIBLE for ch in text)


def without_controls(text: str) -> str:
    """`text` without control characters other than line breaks and tabs (NUL, DEL, C1 and the like are no text a
    ClickUp description or comment should hold)."""
    return "".join(ch for ch in text if ch in "\n\r\t" or unicodedata.category(ch) != "Cc")


def normalise_tags(tags: list[str]) -> list[str]:
    """Tags as ClickUp stores them: one line, trimmed, lower-cased (ClickUp lower-cases tag names: observed by
    public integrations, e.g. "ClickUp lowercases tag names" in several sync tools; its reference does not say),
    empty ones dropped, duplicates (also by case) dropped, the first kept in order, each at most TAG_MAX characters.
    Lower-casing here makes the result the same whether ClickUp lower-cases or not."""
    out: list[str] = []
    for tag in tags:
        name = one_line(tag).lower()[:TAG_MAX].strip()
        if name and name not in out:
            out.append(name)
    return out


def task_name(ticket_id: str, title: str) -> str:
    """`[TICKET-{id}] {title}`: the title on one line (see one_line), at most TITLE_MAX characters."""
    return f"{name_prefix(ticket_id)} {one_line(title)[:TITLE_MAX].rstrip()}"


def name_prefix(ticket_id: str) -> str:
    return f"[TICKET-{ticket_id}]"


def _md(text: str) -> str:
    """Keep portal text from being read as markdown structure in the metadata lines."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")


def description(ticket_id: str, ticket: dict[str, Any], created_at: str) -> str:
    """The task's markdown description: the ticket's own text, then one metadata line each (ticket link when the
    portal gave one, customer, requester, priority, creation date, ticket id). No line says the same thing twice:
    without `ticket_url` the ticket is named once, by the `Ticket ID` line. Metadata values are one line each
    (a newline in a requester's name would start a line of its own) and escaped against markdown."""
    lines = []
    body = (ticket.get("description") or "").strip()
    if body:
        lines += [body, "", "---", ""]
    if ticket.get("ticket_url"):
        lines.append(f"**Ticket:** {one_line(ticket['ticket_url'])}")
    lines.append(f"**Customer:** {_md(one_line(ticket['customer_id']))}")
    requester = ticket.get("requester") or {}
    if requester:
        who = _md(one_line(requester.get("name") or ""))
        email = requester.get("email")
        lines.append(f"**Requester:** {who} <{one_line(email)}>" if email else f"**Requester:** {who}")
    lines.append(f"**Priority:** {ticket['priority']}")
    lines.append(f"**Created:** {created_at}")
    lines.append(f"**Ticket ID:** {ticket_id}")
    return "\n".join(lines)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def due_date_ms(value: str, time_zone: str | None) -> tuple[int, bool]:
    """ClickUp's (due_date ms, due_date_time). `value` is `YYYY-MM-DD` (a calendar day in the workspace's zone)
    or an ISO 8601 date-time with an offset (an instant)."""
    validate_due_date(value)
    if len(value) == 10:
        day = date.fromisoformat(value)
        local = datetime.combine(day, time(DATE_ONLY_HOUR), tzinfo=zone(time_zone))
        return int(local.timestamp() * 1000), False
    instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(instant.timestamp() * 1000), True


def due_date_text(ms: int | None, with_time: bool, time_zone: str | None) -> str | None:
    """Back from ClickUp: the calendar day in the workspace's zone, or the instant in UTC."""
    if ms is None:
        return None
    instant = datetime.fromtimestamp(ms / 1000, UTC)
    if with_time:
        return instant.isoformat().replace("+00:00", "Z")
    return instant.astimezone(zone(time_zone)).date().isoformat()


def canonical_due_date(value: str) -> str:
    """The one form a due date is stored and compared in: `YYYY-MM-DD` unchanged, an instant as UTC in ClickUp's
    millisecond precision (`2026-12-01T14:30:00Z`; what `due_date_text` renders ClickUp's answer as), so
    `1969-12-31T23:00:00-02:00` and `1970-01-01T01:00:00Z` are one value. README: "YYYY-MM-DD or a UTC instant".
    Raises what `validate_due_date` raises."""
    validate_due_date(value)
    if len(value) == 10:
        return value
    return str(due_date_text(due_date_ms(value, None)[0], True, None))


def same_due_date(a: Any, b: Any) -> bool:
    """Whether two stored or reported due dates are the same value: equal, or the same instant / day once
    canonical (a link stored before dates were canonical may hold an offset). Unreadable values compare as text."""
    if a == b or a is None or b is None:
        return bool(a == b)
    try:
        return canonical_due_date(str(a)) == canonical_due_date(str(b))
    except (ValueError, TypeError, OverflowError):
        return False


def validate_due_date(value: str) -> str:
    """`value` unchanged if it is `YYYY-MM-DD` or an ISO 8601 date-time with an offset, in the years
    MIN_YEAR..MAX_YEAR; ValueError otherwise (DateOutOfRange for a well-formed date outside them)."""
    if not isinstance(value, str):
        raise ValueError("a date is a string: YYYY-MM-DD or a date-time with an offset")
    if len(value) == 10:
        day = date.fromisoformat(value)
    else:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("a due date-time needs an offset (e.g. 2026-12-01T15:00:00+01:00)")
        day = instant.date()
        try:
            day = instant.astimezone(UTC).date()
        except OverflowError:
            raise DateOutOfRange(f"{value} is outside {MIN_YEAR}-{MAX_YEAR}") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise DateOutOfRange(f"{value} is outside {MIN_YEAR}-{MAX_YEAR}")
    return value
