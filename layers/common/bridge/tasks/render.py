"""How a portal ticket becomes a ClickUp task body: the name, the markdown description, priorities, due dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRIORITIES = {"urgent": 1, "high": 2, "normal": 3, "low": 4}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}
# A date-only due date is placed at noon of that day in the workspace's time zone: it reads as the same calendar
# day for anyone within ±11 h of it (midnight would show as the day before to everyone west of the zone).
DATE_ONLY_HOUR = 12


def task_name(ticket_id: str, title: str) -> str:
    return f"{name_prefix(ticket_id)} {title.strip()}"


def name_prefix(ticket_id: str) -> str:
    return f"[TICKET-{ticket_id}]"


def _md(text: str) -> str:
    """Keep portal text from being read as markdown structure in the metadata lines."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")


def description(ticket_id: str, ticket: dict[str, Any], created_at: str) -> str:
    lines = []
    if ticket.get("description"):
        lines += [ticket["description"].strip(), "", "---", ""]
    lines.append(f"**Ticket:** {ticket['ticket_url']}" if ticket.get("ticket_url") else f"**Ticket:** {ticket_id}")
    lines.append(f"**Customer:** {_md(ticket['customer_id'])}")
    requester = ticket.get("requester") or {}
    if requester:
        who = _md(requester.get("name") or "")
        email = requester.get("email")
        lines.append(f"**Requester:** {who} <{email}>" if email else f"**Requester:** {who}")
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
    if len(value) == 10:
        day = date.fromisoformat(value)
        local = datetime.combine(day, time(DATE_ONLY_HOUR), tzinfo=zone(time_zone))
        return int(local.timestamp() * 1000), False
    instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError("a due date-time needs an offset (e.g. 2026-12-01T15:00:00+01:00)")
    return int(instant.timestamp() * 1000), True


def due_date_text(ms: int | None, with_time: bool, time_zone: str | None) -> str | None:
    """Back from ClickUp: the calendar day in the workspace's zone, or the instant in UTC."""
    if ms is None:
        return None
    instant = datetime.fromtimestamp(ms / 1000, UTC)
    if with_time:
        return instant.isoformat().replace("+00:00", "Z")
    return instant.astimezone(zone(time_zone)).date().isoformat()


def validate_due_date(value: str) -> str:
    if len(value) == 10:
        date.fromisoformat(value)
        return value
    instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("a due date-time needs an offset (e.g. 2026-12-01T15:00:00+01:00)")
    return value
