"""How a ticket becomes a ClickUp task body: names, descriptions, priorities, due dates, custom field values."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bridge.clickup.models import CustomField
from bridge.tasks import render
from bridge.tasks.fields import FieldValueError, convert

TICKET = "0b8f7c3e-8d4e-4e53-9a53-1f0c7d1e2a10"


def test_name_and_priorities() -> None:
    assert render.task_name(TICKET, "  Printer on fire ") == f"[TICKET-{TICKET}] Printer on fire"
    assert render.PRIORITIES == {"urgent": 1, "high": 2, "normal": 3, "low": 4}


def test_description_carries_the_ticket_metadata_and_escapes_portal_text() -> None:
    text = render.description(
        TICKET,
        {
            "description": "Body",
            "ticket_url": "https://portal.example.com/t/1",
            "customer_id": "acme_[corp]",
            "requester": {"name": "Ann *Boss*", "email": "ann@example.com"},
            "priority": "urgent",
        },
        "2026-11-23T10:00:00Z",
    )
    assert text.startswith("Body\n")
    assert "**Ticket:** https://portal.example.com/t/1" in text
    assert "**Customer:** acme\\_\\[corp\\]" in text
    assert "**Requester:** Ann \\*Boss\\* <ann@example.com>" in text
    assert "**Priority:** urgent" in text and "**Created:** 2026-11-23T10:00:00Z" in text


@pytest.mark.parametrize(
    "zone", ["UTC", "America/Los_Angeles", "Pacific/Auckland", "Asia/Kolkata", "Pacific/Kiritimati"]
)
def test_a_date_only_due_date_is_that_day_in_the_zone(zone: str) -> None:
    ms, with_time = render.due_date_ms("2026-03-29", zone)
    assert with_time is False
    assert datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone)).date().isoformat() == "2026-03-29"
    assert render.due_date_text(ms, False, zone) == "2026-03-29"


def test_a_due_date_time_is_an_instant() -> None:
    ms, with_time = render.due_date_ms("2026-12-01T15:30:00+01:00", "America/New_York")
    assert with_time is True and ms == int(datetime(2026, 12, 1, 14, 30, tzinfo=UTC).timestamp() * 1000)
    assert render.due_date_text(ms, True, None) == "2026-12-01T14:30:00Z"


@pytest.mark.parametrize("value", ["2026-12-01T15:30:00", "tomorrow", "2026-13-01"])
def test_bad_due_dates_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        render.validate_due_date(value)


def _field(kind: str, options: list[dict] | None = None) -> CustomField:
    return CustomField.model_validate(
        {"id": "f1", "name": "Severity", "type": kind, "type_config": {"options": options or []}}
    )


def test_drop_downs_take_the_option_id_not_the_label() -> None:
    field = _field("drop_down", [{"id": "opt-1", "name": "S1", "orderindex": 0}, {"id": "opt-2", "name": "S2"}])
    assert convert(field, "s2", None) == "opt-2"
    assert convert(field, "opt-1", None) == "opt-1"
    with pytest.raises(FieldValueError):
        convert(field, "S9", None)


def test_labels_numbers_checkboxes_text_and_dates() -> None:
    labels = _field("labels", [{"id": "l1", "label": "red"}, {"id": "l2", "name": "blue"}])
    assert convert(labels, ["Red", "blue"], None) == ["l1", "l2"]
    assert convert(_field("number"), "3.0", None) == 3 and convert(_field("currency"), 2.5, None) == 2.5
    with pytest.raises(FieldValueError):
        convert(_field("number"), True, None)
    assert convert(_field("checkbox"), False, None) is False
    with pytest.raises(FieldValueError):
        convert(_field("checkbox"), "yes", None)
    assert convert(_field("short_text"), 42, None) == "42"
    day = convert(_field("date"), "2026-12-01", "Europe/Paris")
    assert datetime.fromtimestamp(day / 1000, ZoneInfo("Europe/Paris")).date().isoformat() == "2026-12-01"
    with pytest.raises(FieldValueError):
        convert(_field("formula"), "x", None)
