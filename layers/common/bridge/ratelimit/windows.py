"""The rate limiter's window arithmetic (pure: no I/O; times are seconds since 1970, UTC, as floats).

ClickUp allows N requests per window per token (100/min on most plans: developer.clickup.com/docs/rate-limits;
`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` in every answer, the reset in seconds). A window
opens with the first request after the previous one ended and lasts `length_s`; it is stretched to ClickUp's own
reset when that is later (ClickUp's window opened when our first request arrived, a moment after ours), but never
by a whole window or more (that reset belongs to ClickUp's next window). `bridge.ratelimit.limiter` stores the
windows in DynamoDB and asks these functions what to do."""

from __future__ import annotations

import math
from dataclasses import dataclass

COUNTER_KEPT_S = 3600  # a window's counter row expires this long after the window ends (DynamoDB TTL)


def guard_for(length_s: float) -> float:
    """No request starts this close to a window's end (s): it could arrive in ClickUp's next window while being
    counted in ours (a straggler), and a few of those at 100/min would draw 429s. 10% of the window, at most 0.5 s."""
    return min(0.5, length_s * 0.1)


def budget_of(limit: int) -> int:
    """The share we use: the limit minus a small safety margin (2%, at least one request), at least 1."""
    return max(1, limit - max(1, math.ceil(limit * 0.02)))


def must_reload(now: float, window_end: float, blocked_until: float) -> bool:
    """Whether the window held in memory cannot answer: it ended (at `window_end` exactly too), or the
    organisation is blocked (another Lambda may have learned the block is over: read it again)."""
    return window_end <= now or blocked_until > now


def refusal(now: float, window_end: float, blocked_until: float, guard_s: float) -> float | None:
    """When a request may be sent again (s), or None when it may go now: blocked after a 429 (until ClickUp's
    reset), or too close to the window's end (`guard_s`; at the window's end minus `guard_s` exactly it may go)."""
    if blocked_until > now:
        return blocked_until
    if now > window_end - guard_s:
        return window_end
    return None


def next_window(now: float, length_s: float) -> tuple[float, float]:
    """The window a request at `now` opens: (start, end), rounded to the millisecond (what is stored)."""
    return round(now, 3), round(now + length_s, 3)


def learned_limit(header: str | None, current: int) -> int | None:
    """ClickUp's `X-RateLimit-Limit` when it is a number other than the limit held; None otherwise."""
    if header and header.isdigit() and int(header) != current:
        return int(header)
    return None


@dataclass(frozen=True)
class AfterResponse:
    """What an answer teaches: `blocked_until` (s) after a 429 (None: not blocked), or `stretch_to` (s): the
    window's new end, ClickUp's reset (None: unchanged)."""

    blocked_until: float | None = None
    stretch_to: float | None = None


def after_response(
    status: int, reset: float | None, now: float, window_end: float, blocked_until: float, length_s: float
) -> AfterResponse:
    """A 429 blocks until ClickUp's reset (a whole window from `now` when it gives none; never earlier than a block
    already known). Otherwise a reset later than our window's end, but within one window of it, stretches it."""
    if status == 429:
        return AfterResponse(blocked_until=max(blocked_until, reset or now + length_s))
    if reset and window_end < reset < window_end + length_s:
        return AfterResponse(stretch_to=reset)
    return AfterResponse()
