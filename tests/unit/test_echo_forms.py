"""The canonical forms our writes and ClickUp's renderings of them compare in (issue 14, failure 4), and the two
published shapes of a comment history item (failure 3)."""

from __future__ import annotations

import pytest

from bridge.repositories.echo_marks import canonical, comment_text, priority_name
from bridge.webhooks.processing import _comment_id, _comment_of, changes_from_history
from bridge.webhooks.processing import comment_text as reported_text


@pytest.mark.parametrize(
    ("ours", "clickups"),
    [
        ("In Progress", "in progress"),
        (" DONE", {"status": "done", "type": "closed"}),
    ],
)
def test_a_status_in_the_lists_spelling_is_the_one_we_wrote(ours, clickups) -> None:
    assert canonical("status", ours) == canonical("status", clickups)
    assert canonical("status", ours) != canonical("status", "in review")


@pytest.mark.parametrize("form", [1, "1", "urgent", "Urgent", {"id": "1", "priority": "urgent", "color": "#f50000"}])
def test_every_form_of_a_priority_reads_as_its_name(form) -> None:
    assert priority_name(form) == "urgent" == canonical("priority", form)


@pytest.mark.parametrize("form", [None, 0, 5, "x", True, {"id": None}])
def test_what_is_no_priority_reads_as_none(form) -> None:
    assert priority_name(form) is None


def test_a_comment_in_clickups_rendering_is_the_text_we_wrote() -> None:
    ours = "Thanks,\r\nwe are  on it "
    blocks = [{"text": "Thanks,\nwe are  on it", "attributes": {}}, {"text": "\n", "attributes": {"block-id": "b"}}]
    assert comment_text(ours) == comment_text("Thanks,\nwe are on it\n") == comment_text(blocks)
    assert comment_text(ours) != comment_text("Thanks, we are on it!")


def test_ids_and_assignees_as_numbers_or_strings() -> None:
    assert canonical("comment_id", 90110164070264) == canonical("comment_id", "90110164070264")
    assert canonical("assignees", ["183", 7]) == canonical("assignees", [7, 183]) == [7, 183]
    assert canonical("due_date", "1804154430250") == canonical("due_date", 1804154430250)


def _item(comment, after="648893191") -> dict:
    return {"id": "h1", "date": "1642737045116", "field": "comment", "after": after, "comment": comment}


def test_both_published_shapes_of_a_comment_item_are_read() -> None:
    blocks = [{"text": "comment abc", "attributes": {}}, {"text": "\n", "attributes": {"block-id": "b"}}]
    documented = {"id": "648893191", "comment": blocks, "text_content": "comment abc\n"}
    for comment in (documented, blocks):
        item = _item(comment)
        assert _comment_id(item, _comment_of(item)) == "648893191"
        assert reported_text(_comment_of(item)) == "comment abc"
    assert _comment_id(_item({}, after=90090008088251), {}) == "90090008088251"
    (posted,) = changes_from_history("taskCommentPosted", "t", [_item(documented)])
    (edited,) = changes_from_history("taskCommentUpdated", "t", [_item({**documented, "text_content": "other\n"})])
    (generic,) = changes_from_history("taskUpdated", "t", [_item(documented)])
    assert (posted.kind, edited.kind, generic.kind) == ("posted", "updated", "generic")
    assert posted.key == generic.key != edited.key  # one history id, two versions: two keys
