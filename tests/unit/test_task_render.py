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


# -- issue 14, failure 7: what ClickUp would store differently is normalised, what cannot be right is refused ----
@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Printer\non fire", "Printer on fire"),
        ("  Printer\r\n\ton\x00fire\x7f ", "Printer on fire"),
        ("Tabs\tand\u2028separators\u2029here\x85", "Tabs and separators here"),
        ("Already fine", "Already fine"),
    ],
)
def test_a_task_name_is_one_line(title: str, name: str) -> None:
    rendered = render.task_name(TICKET, title)
    assert rendered == f"[TICKET-{TICKET}] {name}"
    assert not any(ch in rendered for ch in "\n\r\t\x00\x7f\x85\u2028\u2029")


def test_a_task_name_keeps_at_most_the_title_limit() -> None:
    name = render.task_name(TICKET, "x" * 5000)
    assert name == f"[TICKET-{TICKET}] " + "x" * render.TITLE_MAX


def test_tags_are_trimmed_lower_cased_and_deduplicated_in_order() -> None:
    tags = ["", "  Padded ", "VIP", "vip", "padded", " \t ", "two\nlines", "b" * 300]
    assert render.normalise_tags(tags) == ["padded", "vip", "two lines", "b" * render.TAG_MAX]
    assert render.normalise_tags([]) == []


def _ticket(**overrides) -> dict:
    return {"customer_id": "acme", "priority": "low", **overrides}


@pytest.mark.parametrize(
    "ticket",
    [
        _ticket(),
        _ticket(description="Body"),
        _ticket(ticket_url="https://portal.example.com/t/1", requester={"name": "Ann"}),
        _ticket(description="**Ticket ID:** x", requester={"name": "Ann\nBoss", "email": "a@b.c"}),
    ],
)
def test_the_description_repeats_no_line(ticket: dict) -> None:
    text = render.description(TICKET, ticket, "2026-11-23T10:00:00Z")
    metadata = [line for line in text.split("---")[-1].splitlines() if line.strip()]
    assert len(metadata) == len(set(metadata)), text
    assert text.count(f"**Ticket ID:** {TICKET}") == 1
    assert text.count(TICKET) == 1  # named once, whether or not a ticket URL is given
    assert all(line.startswith("**") for line in metadata)  # one line per item: no value spills onto its own line


def test_without_a_ticket_url_the_ticket_is_named_by_its_id_only() -> None:
    text = render.description(TICKET, _ticket(), "2026-11-23T10:00:00Z")
    assert "**Ticket:**" not in text and f"**Ticket ID:** {TICKET}" in text
    with_url = render.description(TICKET, _ticket(ticket_url="https://p.example/t/1"), "2026-11-23T10:00:00Z")
    assert "**Ticket:** https://p.example/t/1" in with_url


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01",
        "1969-12-31",
        "2101-01-01",
        "9999-12-31",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",  # 1969 in UTC
        "2100-12-31T23:30:00-01:00",  # 2101 in UTC
        "0001-01-01T00:00:00+00:00",
    ],
)
def test_dates_outside_1970_to_2100_are_refused(value: str) -> None:
    with pytest.raises(render.DateOutOfRange):
        render.validate_due_date(value)
    with pytest.raises(render.DateOutOfRange):
        render.due_date_ms(value, "UTC")


@pytest.mark.parametrize("value", ["1970-01-01", "1970-01-01T00:00:00Z", "2100-12-31", "2100-12-31T23:59:59Z"])
def test_the_bounds_are_accepted_and_never_negative(value: str) -> None:
    ms, _ = render.due_date_ms(render.validate_due_date(value), "Pacific/Kiritimati")
    assert ms >= 0


def test_a_date_custom_field_outside_the_range_is_a_field_problem_not_a_negative_date() -> None:
    with pytest.raises(FieldValueError):
        convert(_field("date"), "0001-01-01", None)


@pytest.mark.parametrize("text", ["\x00", "\u200b", " \u200b\u200d\t", "\u202e", "\ufeff", "\x7f\x85"])
def test_nothing_a_reader_sees_is_not_visible(text: str) -> None:
    """Found by a new user: a comment of a NUL or a zero-width space was accepted (202) and posted."""
    assert not render.has_visible(text)


@pytest.mark.parametrize("text", ["a", " ok ", "\u00e9", "\U0001f600", "\u200bx"])
def test_a_visible_character_is_visible(text: str) -> None:
    assert render.has_visible(text)


def test_comments_titles_and_names_without_a_visible_character_are_refused() -> None:
    from pydantic import ValidationError

    from bridge.tasks.models import CommentIn, TicketIn

    for text in ("\x00", "\u200b"):
        with pytest.raises(ValidationError) as refused:
            CommentIn.model_validate({"text": text})
        assert refused.value.errors()[0]["type"] == "comment_empty"
        with pytest.raises(ValidationError) as refused:
            TicketIn.model_validate({"title": text, "priority": "low", "customer_id": "c1"})
        assert refused.value.errors()[0]["type"] == "title_empty"
    assert CommentIn.model_validate({"text": "ok\x00\nnext"}).text == "ok\nnext"
    ticket = TicketIn.model_validate({"title": "t", "priority": "low", "customer_id": "c1", "description": "a\x00b\n"})
    assert ticket.description == "ab\n"


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("1969-12-31T23:00:00-02:00", "1970-01-01T01:00:00Z"),
        ("2027-06-01T10:00:00+05:30", "2027-06-01T04:30:00Z"),
        ("2027-06-01T04:30:00+00:00", "2027-06-01T04:30:00Z"),
        ("2027-06-01T04:30:00Z", "2027-06-01T04:30:00Z"),
        ("2027-06-01T04:30:00.250-01:00", "2027-06-01T05:30:00.250000Z"),
        ("2027-06-01", "2027-06-01"),
    ],
)
def test_a_due_date_is_stored_as_a_day_or_a_utc_instant(value: str, canonical: str) -> None:
    assert render.canonical_due_date(value) == canonical
    # the form the sweep renders ClickUp's answer in (due_date_text of its ms) is the same text
    if len(value) > 10:
        assert render.due_date_text(render.due_date_ms(value, None)[0], True, None) == canonical


def test_due_dates_compare_as_instants_or_days() -> None:
    assert render.same_due_date("1969-12-31T23:00:00-02:00", "1970-01-01T01:00:00Z")
    assert render.same_due_date("2027-06-01", "2027-06-01")
    assert render.same_due_date(None, None)
    assert not render.same_due_date("1969-12-31T23:00:00-02:00", "1970-01-01T01:00:01Z")
    assert not render.same_due_date("2027-06-01", "2027-06-01T00:00:00Z")
    assert not render.same_due_date(None, "2027-06-01")
    assert not render.same_due_date("not a date", "2027-06-01")
