"""Which list a ticket's task is created in (bridge.tasks.lists): the customer's assignment, the space's default
list from the settings, the space's first open list; a deleted or broken assignment; archived lists and folders;
a status name matched as ClickUp matches it."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.tasks.lists import ListChoice, archived_list, choose_list, first_open_list, status_in_list

CUSTOMER = {"customer_id": "c1", "workspace_id": "W", "space_id": "S1"}


def _list(list_id: str, orderindex: int | None = None, folder_id: str | None = None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": "list", "id": list_id, "space_id": "S1", **extra}
    if orderindex is not None:
        row["orderindex"] = orderindex
    if folder_id:
        row["folder_id"] = folder_id
    return row


def _folder(folder_id: str, archived: bool = False) -> dict[str, Any]:
    return {"kind": "folder", "id": folder_id, "space_id": "S1", "archived": archived}


@pytest.mark.parametrize("customer", [None, {}])
def test_a_customer_without_an_assignment_or_a_deleted_one_has_no_list(customer: Any) -> None:
    assert choose_list(customer, {"S1": "L9"}) == ListChoice("none")


def test_a_broken_assignment_has_no_list_even_with_a_list_and_a_default() -> None:
    broken = {**CUSTOMER, "list_id": "L1", "status": "broken"}
    assert choose_list(broken, {"S1": "L9"}) == ListChoice("none")


def test_the_assigned_list_wins_over_the_spaces_default() -> None:
    assert choose_list({**CUSTOMER, "list_id": 123}, {"S1": "L9"}) == ListChoice("assignment", "123")


def test_the_spaces_default_list_when_the_assignment_names_no_list() -> None:
    assert choose_list({**CUSTOMER, "list_id": ""}, {"S1": "L9", "S2": "L8"}) == ListChoice("space_default", "L9")


def test_else_the_spaces_first_open_list_is_read() -> None:
    assert choose_list(CUSTOMER, {"S2": "L8", "S1": ""}) == ListChoice("first_list", None, "W", "S1")


def test_folderless_lists_come_first_in_clickups_order() -> None:
    rows = [_list("F1", 0, folder_id="D1"), _list("B", 2), _list("A", 1), _folder("D1")]
    assert first_open_list(rows) == "A"


def test_archived_lists_and_lists_of_archived_folders_are_never_chosen() -> None:
    rows = [_list("A", 0, archived=True), _list("F1", 0, folder_id="D1"), _list("F2", 1, folder_id="D2")]
    assert first_open_list([*rows, _folder("D1", archived=True), _folder("D2")]) == "F2"
    assert first_open_list([*rows[:2], _folder("D1", archived=True)]) is None


def test_a_list_without_an_orderindex_sorts_as_zero_and_no_list_is_none() -> None:
    assert first_open_list([_list("B", 1), _list("A")]) == "A"
    assert first_open_list([]) is None
    assert first_open_list([_folder("D1")]) is None


def test_an_archived_list_is_one_archived_itself_or_in_an_archived_folder() -> None:
    rows = [_folder("D1", archived=True), _folder("D2")]
    assert archived_list(rows, _list("A", archived=True))
    assert archived_list(rows, _list("B", folder_id="D1"))
    assert not archived_list(rows, _list("C", folder_id="D2"))
    assert not archived_list(rows, _list("D"))


@pytest.mark.parametrize(
    ("wanted", "found"), [("In Progress", "in progress"), (" DONE ", "Done"), ("in review", None), ("", None)]
)
def test_a_status_is_matched_ignoring_case_and_answered_in_the_lists_spelling(wanted: str, found: str | None) -> None:
    assert status_in_list(["to do", "in progress", "Done"], wanted) == found
