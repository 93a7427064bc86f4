"""The rate limiter's window arithmetic (bridge.ratelimit.windows): window boundaries, the guard before a window's
end, the budget, what a 429 and ClickUp's reset teach (the reset in seconds, ClickUp's header in s or ms)."""

from __future__ import annotations

import pytest

from bridge.clickup.client import parse_reset
from bridge.ratelimit.windows import (
    AfterResponse,
    after_response,
    budget_of,
    guard_for,
    learned_limit,
    must_reload,
    next_window,
    refusal,
)

NOW = 1_800_000_000.0  # s


@pytest.mark.parametrize(("limit", "budget"), [(100, 98), (1000, 980), (50, 49), (2, 1), (1, 1), (0, 1)])
def test_the_budget_keeps_a_margin_of_two_percent_and_at_least_one_request(limit: int, budget: int) -> None:
    assert budget_of(limit) == budget


@pytest.mark.parametrize(("length", "guard"), [(60.0, 0.5), (5.0, 0.5), (2.0, 0.2), (0.5, 0.05)])
def test_the_guard_is_a_tenth_of_the_window_at_most_half_a_second(length: float, guard: float) -> None:
    assert guard_for(length) == pytest.approx(guard)


def test_a_window_ending_now_has_ended() -> None:
    assert must_reload(NOW, window_end=NOW, blocked_until=0.0)
    assert must_reload(NOW, window_end=NOW - 1, blocked_until=0.0)
    assert not must_reload(NOW, window_end=NOW + 0.001, blocked_until=0.0)


def test_a_block_is_read_again_until_it_is_over() -> None:
    assert must_reload(NOW, window_end=NOW + 30, blocked_until=NOW + 1)
    assert not must_reload(NOW, window_end=NOW + 30, blocked_until=NOW)


def test_a_request_may_go_up_to_the_guard_before_the_windows_end_and_not_after() -> None:
    end, guard = NOW + 10, 0.5
    assert refusal(end - guard, end, 0.0, guard) is None  # exactly at the guard: still sent
    assert refusal(end - guard + 0.001, end, 0.0, guard) == end
    assert refusal(end, end, 0.0, guard) == end
    assert refusal(NOW, end, 0.0, guard) is None


def test_a_block_outranks_the_window_and_names_its_own_end() -> None:
    assert refusal(NOW, NOW + 10, NOW + 30, 0.5) == NOW + 30
    assert refusal(NOW, NOW + 10, NOW, 0.5) is None  # a block ending now is over


def test_a_new_window_starts_now_and_lasts_its_length_to_the_millisecond() -> None:
    assert next_window(1_800_000_000.12345, 60.0) == (1_800_000_000.123, 1_800_000_060.123)
    start, end = next_window(NOW, 2.0)
    assert end - start == pytest.approx(2.0)


@pytest.mark.parametrize(("header", "learned"), [("100", None), ("1000", 1000), ("", None), (None, None), ("x", None)])
def test_the_limit_is_learned_from_clickups_header_when_it_differs(header: str | None, learned: int | None) -> None:
    assert learned_limit(header, 100) == learned


def test_a_429_blocks_until_clickups_reset_or_a_whole_window() -> None:
    assert after_response(429, NOW + 12, NOW, NOW + 5, 0.0, 60.0) == AfterResponse(blocked_until=NOW + 12)
    assert after_response(429, None, NOW, NOW + 5, 0.0, 60.0) == AfterResponse(blocked_until=NOW + 60)
    # a reset earlier than a block already known does not shorten it
    assert after_response(429, NOW + 12, NOW, NOW + 5, NOW + 40, 60.0) == AfterResponse(blocked_until=NOW + 40)


def test_a_later_reset_within_one_window_stretches_ours_and_no_other_does() -> None:
    end, length = NOW + 5, 60.0
    assert after_response(200, end + 0.4, NOW, end, 0.0, length) == AfterResponse(stretch_to=end + 0.4)
    assert after_response(200, end, NOW, end, 0.0, length) == AfterResponse()  # the same end
    assert after_response(200, end - 1, NOW, end, 0.0, length) == AfterResponse()  # earlier
    assert after_response(200, end + length, NOW, end, 0.0, length) == AfterResponse()  # ClickUp's next window
    assert after_response(200, None, NOW, end, 0.0, length) == AfterResponse()


def test_clickups_reset_in_ms_or_s_is_the_same_instant_for_the_windows() -> None:
    seconds, millis = parse_reset("1800000005"), parse_reset("1800000005000")
    assert seconds == millis == 1_800_000_005.0
    assert after_response(200, millis, NOW, NOW + 4, 0.0, 60.0) == AfterResponse(stretch_to=NOW + 5)
    assert parse_reset("soon") is None and parse_reset(None) is None
