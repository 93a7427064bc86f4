from __future__ import annotations

import time

from bridge.core.recent import Recent


def test_a_recent_value_is_reused_until_it_is_too_old_or_forgotten() -> None:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    recent: Recent[int] = Recent(max_age_s=0.2)
    assert recent.get("org-a", load) == 1
    assert recent.get("org-a", load) == 1  # reused
    assert recent.get("org-b", load) == 2  # per key
    recent.forget("org-a")
    assert recent.get("org-a", load) == 3  # a write in this container forgets at once
    time.sleep(0.25)
    assert recent.get("org-a", load) == 4  # a write elsewhere is seen within max_age_s


def test_recent_values_never_grow_without_bound() -> None:
    recent: Recent[str] = Recent(max_age_s=60, max_entries=3)
    for key in "abcdefg":
        recent.get(key, lambda k=key: k)
    assert len(recent._values) <= 3
