"""What ClickUp's changes do to a ticket's link (bridge.webhooks.decisions): order (an older change never
overwrites a newer one; equal dates apply), duplicates (re-sends, states read back, late webhooks), echoes of the
bridge's own writes (also after a newer change), news, comments, and who made a change."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.webhooks.changes import Change, digest
from bridge.webhooks.decisions import (
    NOT_OURS,
    assignees_echo,
    decide_comment,
    decide_field,
    decide_link,
    iso,
    link_value,
    mark_authors,
    names_a_user,
    reported_before,
)

T0 = 1_700_000_000_000  # ms


def _change(field: str, value: Any, date_ms: int, key: str | None = None, **extra: Any) -> Change:
    return Change(field, value, date_ms=date_ms, key=key or f"history:{field}-{date_ms}", **extra)


def _link(**fields: Any) -> dict[str, Any]:
    return {"state": "created", "status": "open", "priority": None, "assignees": [], **fields}


class Marks:
    """The echo marks' answers, recording each question (a question is a DynamoDB read in the product)."""

    def __init__(self, echoes: set[tuple[str, Any]] | None = None, own: set[str] | None = None) -> None:
        self.echoes, self.own = echoes or set(), own or set()
        self.asked: list[tuple[str, Any]] = []

    def echo(self, change: Change, value: Any) -> bool:
        self.asked.append((change.field, value))
        return (change.field, repr(value)) in {(f, repr(v)) for f, v in self.echoes}

    def own_comment(self, comment_id: str, text: str | None, not_ours: bool) -> bool:
        self.asked.append(("comment", comment_id))
        return comment_id in self.own


def _decide(link: dict[str, Any], changes: list[Change], marks: Marks | None = None, tz: str | None = None) -> Any:
    marks = marks or Marks()
    return decide_link(link, changes, task_id="t1", time_zone=tz, echo=marks.echo, own_comment=marks.own_comment)


# -- order -----------------------------------------------------------------------------------------------------


def test_a_newer_change_is_applied_and_reported_as_current() -> None:
    decision = _decide(_link(), [_change("status", "done", T0, data={"previous": "open"})])
    assert decision.fields["status"] == "done" and decision.field_dates == {"status": T0}
    assert decision.field_keys == {"status": f"history:status-{T0}"} and decision.reported == {"status"}
    (news,) = decision.news
    assert news["type"] == "clickup.task.status_changed" and news["key"] == f"t1|history:status-{T0}|status"
    assert news["data"] == {
        "changed_at": iso(T0),
        "by": "clickup",
        "current": True,
        "status": "done",
        "previous": "open",
    }
    assert decision.changed


def test_an_older_change_than_the_one_applied_is_reported_not_current_and_not_applied() -> None:
    link = _link(status="done", field_dates={"status": T0}, field_keys={"status": "history:newer"})
    decision = _decide(link, [_change("status", "review", T0 - 1)])
    assert decision.fields["status"] == "done" and decision.field_dates == {"status": T0}
    assert decision.reported == set()
    (news,) = decision.news
    assert news["data"]["current"] is False and news["data"]["status"] == "review"


def test_a_change_of_the_same_date_as_the_one_applied_is_applied() -> None:
    link = _link(status="done", field_dates={"status": T0}, field_keys={"status": "history:first"})
    decision = _decide(link, [_change("status", "review", T0, key="history:second")])
    assert decision.fields["status"] == "review" and decision.field_keys == {"status": "history:second"}
    assert decision.news[0]["data"]["current"] is True


def test_changes_of_one_delivery_apply_in_date_order_whatever_order_they_came_in() -> None:
    decision = _decide(_link(), [_change("priority", "low", T0 + 5), _change("priority", "urgent", T0)])
    assert decision.fields["priority"] == "low" and decision.field_dates == {"priority": T0 + 5}
    assert [n["data"]["priority"] for n in decision.news] == ["urgent", "low"]
    assert [n["data"]["previous"] for n in decision.news] == [None, "urgent"]


def test_a_change_without_a_date_applies_to_a_field_never_dated_but_not_over_a_dated_one() -> None:
    undated = _change("list_id", "L2", 0, key="history:undated")
    assert _decide(_link(list_id="L1"), [undated]).fields["list_id"] == "L2"
    dated = _link(list_id="L1", field_dates={"list_id": T0}, field_keys={"list_id": "history:x"})
    decision = _decide(dated, [undated])
    assert decision.fields["list_id"] == "L1" and decision.news[0]["data"]["current"] is False
    assert decision.news[0]["data"]["changed_at"] is None  # date unknown: no instant invented


def test_iso_reads_ms_not_seconds() -> None:
    assert iso(1642736073330) == "2022-01-21T03:34:33.330000Z"
    assert iso(1642736073) == "1970-01-20T00:18:56.073000Z"  # seconds read as ms are 1970: ms are what ClickUp sends
    assert iso(0) is None


# -- duplicates ------------------------------------------------------------------------------------------------


def test_the_change_that_set_the_field_delivered_again_changes_nothing_and_reads_no_echo_mark() -> None:
    marks = Marks()
    link = _link(status="done", field_dates={"status": T0}, field_keys={"status": "history:h1"})
    decision = _decide(link, [_change("status", "done", T0, key="history:h1")], marks)
    assert not decision.changed and decision.news == [] and marks.asked == []


def test_a_state_read_back_that_the_link_holds_says_nothing_new() -> None:
    link = _link(status="done", field_dates={"status": T0}, field_keys={"status": "history:h1"})
    assert not _decide(link, [_change("status", "done", T0 + 9, key=f'state:"done"@{T0 + 9}')]).changed


def test_a_late_webhook_older_than_a_state_read_back_is_not_reported_again() -> None:
    state_key = f'state:"done"@{T0}'
    assert reported_before(_change("status", "done", T0 - 1), state_key, T0)
    assert reported_before(_change("status", "done", T0), state_key, T0)  # equal dates: the state had it
    assert not reported_before(_change("status", "done", T0 + 1), state_key, T0)
    assert reported_before(_change("status", "done", T0 - 1), None, T0)  # a link written before keys were kept


def test_an_earlier_change_to_the_value_a_later_one_set_is_news_of_its_own() -> None:
    link = _link(status="done", field_dates={"status": T0}, field_keys={"status": "history:later"})
    decision = _decide(link, [_change("status", "done", T0 - 5, key="history:earlier")])
    assert [n["data"]["current"] for n in decision.news] == [False]


def test_a_due_date_held_with_an_offset_is_the_same_instant_clickup_reports() -> None:
    link = _link(due_date="2026-12-01T14:30:00+02:00", field_dates={"due_date": T0}, field_keys={})
    ms = 1796128200000  # 2026-12-01T12:30:00Z
    decision = _decide(link, [_change("due_date", ms, T0, key=f"state:{ms}@{T0}")])
    assert not decision.changed


# -- echoes ----------------------------------------------------------------------------------------------------


def test_our_own_write_echoed_updates_the_link_but_is_not_news_nor_audited() -> None:
    marks = Marks(echoes={("priority", "high")})
    decision = _decide(_link(), [_change("priority", "high", T0)], marks)
    assert decision.fields["priority"] == "high" and decision.field_dates == {"priority": T0}
    assert decision.news == [] and decision.reported == set() and decision.echoes == 1 and decision.changed
    assert marks.asked == [("priority", "high")]


def test_a_status_echoed_after_a_newer_change_changes_nothing() -> None:
    # we wrote "review" (T0); a ClickUp user then set "done" (T0 + 10, applied); the echo of our write arrives late
    link = _link(status="done", field_dates={"status": T0 + 10}, field_keys={"status": "history:user"})
    marks = Marks(echoes={("status", "review")})
    decision = _decide(link, [_change("status", "review", T0, key="history:echo")], marks)
    assert decision.fields["status"] == "done" and decision.news == [] and decision.echoes == 1
    assert not decision.changed


def test_another_clickup_users_change_is_never_our_echo_and_the_marks_are_not_read() -> None:
    marks = Marks(echoes={("status", "review")})
    change = _change("status", "review", T0, actor="clickup:user:2")
    (marked,) = mark_authors([change], "clickup:user:1")
    assert marked.data[NOT_OURS] is True
    decision = _decide(_link(), [marked], marks)
    assert decision.news[0]["data"]["by"] == "clickup:user:2" and marks.asked == []


def test_who_made_a_change_decides_only_when_both_users_are_known() -> None:
    ours = _change("status", "x", T0, actor="clickup:user:1")
    nobody = _change("status", "x", T0)
    assert not names_a_user([nobody]) and names_a_user([nobody, ours])
    assert [NOT_OURS in c.data for c in mark_authors([ours, nobody], "clickup:user:1")] == [False, False]
    assert [NOT_OURS in c.data for c in mark_authors([ours, nobody], None)] == [False, False]
    assert [NOT_OURS in c.data for c in mark_authors([ours, nobody], "clickup:user:5")] == [True, False]


def test_a_move_or_a_deletion_is_never_an_echo() -> None:
    marks = Marks(echoes={("list_id", "L2")})
    decision = _decide(_link(), [_change("list_id", "L2", T0), Change("deleted", True, 0, "deleted:t1")], marks)
    # the deletion is dated 0 (final, whatever its date): first in date order
    assert [n["type"] for n in decision.news] == ["clickup.task.deleted", "clickup.task.moved"]
    assert decision.fields["state"] == "deleted" and marks.asked == []


@pytest.mark.parametrize(
    ("change_value", "value", "written", "echo"),
    [
        ({"set": [1, 2]}, [1, 2], [["2", "1"]], True),
        ({"set": [1, 2]}, [1, 2], [[1]], False),
        ({"add": 2}, [1, 2], [[1, 2]], True),
        ({"add": 3}, [1, 3], [[1, 2]], False),
        ({"rem": 2}, [1], [[1]], True),
        ({"rem": 2}, [1], [[1, 2]], False),
        ({"add": 2}, [2], [], False),
    ],
)
def test_assignee_changes_are_echoes_of_whole_sets_we_wrote(change_value, value, written, echo) -> None:
    assert assignees_echo(change_value, value, written) is echo


def test_assignees_added_and_removed_apart_build_on_the_set_held() -> None:
    link = _link(assignees=[1, 2])
    add, rem = _change("assignees", {"add": 3}, T0), _change("assignees", {"rem": 1}, T0 + 1)
    assert link_value(add, link, None) == [1, 2, 3]
    decision = _decide(link, [rem, add])
    assert decision.fields["assignees"] == [2, 3]
    assert [(n["data"]["added"], n["data"]["removed"]) for n in decision.news] == [([3], []), ([], [1])]
    assert decision.news[1]["data"]["previous"] == [1, 2, 3]


def test_a_due_date_keeps_the_links_form_a_day_or_an_instant() -> None:
    ms = 1796126400000  # 2026-12-01T12:00:00Z
    day = _change("due_date", ms, T0)
    assert link_value(day, _link(due_date="2026-11-30"), "Europe/Berlin") == "2026-12-01"
    assert link_value(day, _link(due_date="2026-11-30"), "Pacific/Kiritimati") == "2026-12-02"
    assert link_value(day, _link(due_date=None), None) == "2026-12-01T12:00:00Z"
    assert link_value(_change("due_date", None, T0), _link(due_date="2026-11-30"), None) is None


def test_a_duplicate_is_decided_before_the_echo_marks_are_asked() -> None:
    asked: list[bool] = []
    change = _change("status", "done", T0, key="history:h1")
    decision = decide_field(change, "done", "done", T0, "history:h1", lambda: asked.append(True) or True)
    assert decision.verdict == "duplicate" and asked == []
    decision = decide_field(change, "done", "open", T0, "history:h0", lambda: asked.append(True) or True)
    assert (decision.verdict, decision.apply, asked) == ("echo", True, [True])


# -- comments --------------------------------------------------------------------------------------------------


def _comment(text: str | None, date_ms: int, kind: str, key: str | None = None, **data: Any) -> Change:
    key = key or f"history:{kind}-{date_ms}#{digest(text)}"
    return Change("comment", text, date_ms=date_ms, key=key, data={"comment_id": "c1", **data}, kind=kind)


def _no(*_: Any) -> bool:
    return False


def test_a_comment_is_added_once_whatever_copies_arrive() -> None:
    posted = _comment("Hi", T0, "posted", key="history:h1#x")
    first = decide_comment(posted, None, _no)
    assert (first.verdict, first.current) == ("added", True)
    assert first.state == {"d": T0, "h": digest("Hi"), "a": True, "k": ["history:h1#x"]}
    assert decide_comment(posted, first.state, _no).verdict == "handled"  # a re-send
    generic = _comment("Hi", T0, "generic", key="history:h1#y")
    assert decide_comment(generic, first.state, _no).verdict == "handled"  # the taskUpdated copy
    again = _comment("Hi", T0 + 1, "posted", key="history:h2#x")
    assert decide_comment(again, first.state, _no).verdict == "handled"  # a second "posted" of the same comment


def test_a_generic_copy_with_other_text_is_an_edit_and_each_edit_is_reported_once() -> None:
    state = decide_comment(_comment("Hi", T0, "posted"), None, _no).state
    edit = decide_comment(_comment("Hi!", T0 + 1, "generic"), state, _no)
    assert (edit.verdict, edit.current, edit.state["h"]) == ("updated", True, digest("Hi!"))
    same_version = _comment("Hi!", T0 + 1, "updated", key="history:other#z")
    assert decide_comment(same_version, edit.state, _no).verdict == "handled"


def test_an_edit_before_the_addition_reports_the_addition_as_not_current() -> None:
    edit = decide_comment(_comment("v2", T0 + 10, "updated"), None, _no)
    assert (edit.verdict, edit.current) == ("updated", True)
    added = decide_comment(_comment("v1", T0, "posted"), edit.state, _no)
    assert (added.verdict, added.current, added.state["h"]) == ("added", False, digest("v2"))


def test_a_deleted_comment_is_reported_once() -> None:
    state = decide_comment(_comment("Hi", T0, "posted"), None, _no).state
    gone = decide_comment(_comment(None, T0 + 1, "deleted", key="gone:c1"), state, _no)
    assert gone.verdict == "deleted" and gone.state["x"] is True
    assert decide_comment(_comment(None, T0 + 2, "deleted", key="gone:c1b"), gone.state, _no).verdict == "handled"


def test_our_own_comment_is_recorded_not_reported_and_asked_about_once() -> None:
    marks = Marks(own={"c1"})
    decision = _decide(_link(), [_comment("Ours", T0, "posted", key="history:h1#a")], marks)
    assert decision.news == [] and decision.echoes == 1 and decision.comments["c1"]["own"] is True
    assert decision.changed  # the comment's state is new
    again = _decide(_link(comments=decision.comments), [_comment("Ours", T0, "posted", key="history:h1#a")], marks)
    assert not again.changed and marks.asked == [("comment", "c1")]


def test_a_comment_event_has_its_types_shape() -> None:
    decision = _decide(_link(), [_comment("Hello", T0, "posted", key="history:h1#a")])
    (news,) = decision.news
    assert news == {
        "type": "clickup.task.comment_added",
        "data": {"comment_id": "c1", "changed_at": iso(T0), "by": "clickup", "current": True, "text": "Hello"},
        "key": "t1|history:h1#a|comment:added",
    }
