"""The one read → change → conditional write → retry loop (bridge.repositories.table.versioned_update), over an
in-memory record with a version, as DynamoDB's conditional writes behave."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.repositories.table import Done, versioned_update


class Store:
    """One record with a version; `racers` writes by others land between a read and our write."""

    def __init__(self, racers: int = 0) -> None:
        self.record: dict[str, Any] = {"version": 1, "n": 0}
        self.racers, self.reads, self.writes = racers, 0, 0

    def read(self) -> dict[str, Any]:
        self.reads += 1
        return dict(self.record)

    def write(self, record: dict[str, Any]) -> bool:
        self.writes += 1
        if self.racers:  # another writer got there first
            self.racers -= 1
            self.record = {**self.record, "version": self.record["version"] + 1, "n": self.record["n"] + 10}
        if record["version"] != self.record["version"]:
            return False
        self.record = {**record, "version": record["version"] + 1}
        return True


def _increment(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "n": record["n"] + 1}


def test_a_change_written_at_once_is_answered() -> None:
    store = Store()
    written = versioned_update(store.read, _increment, store.write, tries=3, contended=RuntimeError("x"))
    assert written == {"version": 1, "n": 1} and store.record == {"version": 2, "n": 1}
    assert (store.reads, store.writes) == (1, 1)


def test_a_lost_race_reads_again_and_keeps_the_other_writers_change() -> None:
    store = Store(racers=2)
    versioned_update(store.read, _increment, store.write, tries=3, contended=RuntimeError("x"))
    assert store.record == {"version": 4, "n": 21} and (store.reads, store.writes) == (3, 3)


def test_running_out_of_tries_raises_the_callers_error_after_exactly_that_many_writes() -> None:
    store = Store(racers=5)
    with pytest.raises(RuntimeError, match="kept changing"):
        versioned_update(store.read, _increment, store.write, tries=4, contended=RuntimeError("kept changing"))
    assert store.writes == 4 and store.reads == 4


def test_running_out_of_tries_may_be_an_answer() -> None:
    store = Store(racers=5)
    assert versioned_update(store.read, _increment, store.write, tries=2, contended=Done("gave up")) == "gave up"


def test_a_change_or_a_read_that_is_done_writes_nothing() -> None:
    store = Store()
    assert versioned_update(store.read, lambda r: Done(r["n"]), store.write, tries=3, contended=Done(None)) == 0
    assert versioned_update(lambda: Done("gone"), _increment, store.write, tries=3, contended=Done(None)) == "gone"
    assert store.writes == 0


def test_the_record_in_hand_is_changed_first_without_a_read() -> None:
    store = Store(racers=1)
    held = {"version": 1, "n": 0}
    versioned_update(store.read, _increment, store.write, tries=3, contended=RuntimeError("x"), held=held)
    assert store.reads == 1 and store.writes == 2 and store.record == {"version": 3, "n": 11}


def test_a_change_refusing_by_raising_propagates() -> None:
    store = Store()

    def refuse(record: dict[str, Any]) -> dict[str, Any]:
        raise PermissionError("no")

    with pytest.raises(PermissionError):
        versioned_update(store.read, refuse, store.write, tries=3, contended=RuntimeError("x"))
    assert store.writes == 0
