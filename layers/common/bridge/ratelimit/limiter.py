"""ClickUp allows N requests per window per token (100/min on most plans). Every ClickUp call of every function
for an organisation first takes one unit from a DynamoDB counter (conditional atomic increment), so concurrent
Lambdas together stay under the budget and never draw a 429; an organisation that spends its budget waits alone.

Rows: `RATE#{org}` / `STATE` (learned limit, current window start and end, blocked-until after a 429) and
`RATE#{org}` / `WINDOW#{start}` (the counter, expiring). Windows follow ClickUp's: one opens with the first
request after the previous one ended, lasts `CLICKUP_RATE_WINDOW_S` (60 s; tests and benchmarks shorten it),
and is stretched to ClickUp's own `X-RateLimit-Reset` when that is later (ClickUp's window opened when our first
request arrived, a moment after ours).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bridge.clickup.client import parse_reset
from bridge.clickup.errors import RateLimited
from bridge.ratelimit import windows
from bridge.ratelimit.windows import budget_of
from bridge.repositories.table import is_conditional_failure, main_table, plain

DEFAULT_LIMIT = 100  # until ClickUp tells us (X-RateLimit-Limit)


def window_s() -> float:
    return float(os.environ.get("CLICKUP_RATE_WINDOW_S", "60"))


def guard_s() -> float:
    """No request starts this close to a window's end (`windows.guard_for`)."""
    return windows.guard_for(window_s())


def _dec(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class OrgRateLimiter:
    """RequestHooks for the ClickUp client: `before_request` takes budget, `after_response` learns."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self._key = {"pk": f"RATE#{org_id}", "sk": "STATE"}
        self._limit = DEFAULT_LIMIT
        self._window_start = 0.0  # the counter's key: stable for the window's whole life
        self._window_end = 0.0
        self._blocked_until = 0.0

    def _spent(self, until: float) -> RateLimited:
        return RateLimited("ClickUp budget spent for this organisation", reset_at=until)

    # -- hooks -------------------------------------------------------------------------------------------
    def before_request(self) -> None:
        now = time.time()
        if windows.must_reload(now, self._window_end, self._blocked_until):
            self._load_window(now)
        until = windows.refusal(now, self._window_end, self._blocked_until, guard_s())
        if until is not None:
            raise self._spent(until)
        try:
            main_table().update_item(
                Key={"pk": self._key["pk"], "sk": f"WINDOW#{self._window_start:.3f}"},
                UpdateExpression="ADD n :one SET expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="attribute_not_exists(n) OR n < :budget",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":budget": budget_of(self._limit),
                    ":exp": int(self._window_end) + windows.COUNTER_KEPT_S,
                },
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise self._spent(self._window_end) from None
            raise
        if windows.refusal(time.time(), self._window_end, 0.0, guard_s()) is not None:
            # The bookkeeping itself was slow: the unit is spent, the request is not sent this late.
            raise self._spent(self._window_end)

    def after_response(self, status: int, headers: Mapping[str, str]) -> None:
        limit = windows.learned_limit(headers.get("X-RateLimit-Limit"), self._limit)
        if limit is not None:
            self._limit = limit
            main_table().update_item(
                Key=self._key,
                UpdateExpression="SET #l = :l",
                ExpressionAttributeNames={"#l": "limit"},
                ExpressionAttributeValues={":l": self._limit},
            )
        reset = parse_reset(headers.get("X-RateLimit-Reset"))
        learned = windows.after_response(status, reset, time.time(), self._window_end, self._blocked_until, window_s())
        if learned.blocked_until is not None:
            # Spent anyway (another client of the same token): wait for ClickUp's reset, for every Lambda.
            self._blocked_until = learned.blocked_until
            main_table().update_item(
                Key=self._key,
                UpdateExpression="SET blocked_until = :b",
                ExpressionAttributeValues={":b": _dec(self._blocked_until)},
            )
        elif learned.stretch_to is not None:
            self._stretch(learned.stretch_to)

    # -- windows -------------------------------------------------------------------------------------------
    def _stretch(self, reset: float) -> None:
        try:
            main_table().update_item(
                Key=self._key,
                UpdateExpression="SET window_end = :r",
                ConditionExpression="window_start = :s AND window_end < :r",
                ExpressionAttributeValues={":r": _dec(reset), ":s": _dec(self._window_start)},
            )
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
        self._window_end = reset

    def _read_state(self, table: Any) -> dict[str, Any]:
        return plain(table.get_item(Key=self._key, ConsistentRead=True).get("Item") or {})

    def _adopt(self, state: dict[str, Any]) -> None:
        self._limit = int(state.get("limit", self._limit))
        self._blocked_until = float(state.get("blocked_until", 0))
        self._window_end = float(state.get("window_end", 0))
        self._window_start = float(state.get("window_start", self._window_end))

    def _load_window(self, now: float) -> None:
        table = main_table()
        self._adopt(self._read_state(table))
        if self._window_end > now:
            return
        start, end = windows.next_window(now, window_s())
        try:  # the first request after a window ended opens the next one, for every Lambda alike
            table.update_item(
                Key=self._key,
                UpdateExpression="SET window_start = :s, window_end = :e",
                ConditionExpression="attribute_not_exists(window_end) OR window_end <= :now",
                ExpressionAttributeValues={":s": _dec(start), ":e": _dec(end), ":now": _dec(now)},
            )
            self._window_start, self._window_end = start, end
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            self._adopt(self._read_state(table))
