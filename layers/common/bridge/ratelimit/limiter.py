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

import math
import os
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bridge.clickup.client import parse_reset
from bridge.clickup.errors import RateLimited
from bridge.repositories.table import is_conditional_failure, main_table, plain

DEFAULT_LIMIT = 100  # until ClickUp tells us (X-RateLimit-Limit)


def window_s() -> float:
    return float(os.environ.get("CLICKUP_RATE_WINDOW_S", "60"))


def guard_s() -> float:
    """No request starts this close to a window's end: it could arrive in ClickUp's next window while being
    counted in ours (a straggler), and a few of those at 100/min would draw 429s."""
    return min(0.5, window_s() * 0.1)


def budget_of(limit: int) -> int:
    """The share we use: the limit minus a small safety margin (2%, at least one request)."""
    return max(1, limit - max(1, math.ceil(limit * 0.02)))


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
        if self._window_end <= now or self._blocked_until > now:
            self._load_window(now)
        if self._blocked_until > now:
            raise self._spent(self._blocked_until)
        if now > self._window_end - guard_s():
            raise self._spent(self._window_end)
        try:
            main_table().update_item(
                Key={"pk": self._key["pk"], "sk": f"WINDOW#{self._window_start:.3f}"},
                UpdateExpression="ADD n :one SET expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="attribute_not_exists(n) OR n < :budget",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":budget": budget_of(self._limit),
                    ":exp": int(self._window_end) + 3600,
                },
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise self._spent(self._window_end) from None
            raise
        if time.time() > self._window_end - guard_s():
            # The bookkeeping itself was slow: the unit is spent, the request is not sent this late.
            raise self._spent(self._window_end)

    def after_response(self, status: int, headers: Mapping[str, str]) -> None:
        limit = headers.get("X-RateLimit-Limit")
        if limit and limit.isdigit() and int(limit) != self._limit:
            self._limit = int(limit)
            main_table().update_item(
                Key=self._key,
                UpdateExpression="SET #l = :l",
                ExpressionAttributeNames={"#l": "limit"},
                ExpressionAttributeValues={":l": self._limit},
            )
        reset = parse_reset(headers.get("X-RateLimit-Reset"))
        if status == 429:
            # Spent anyway (another client of the same token): wait for ClickUp's reset, for every Lambda.
            self._blocked_until = max(self._blocked_until, reset or time.time() + window_s())
            main_table().update_item(
                Key=self._key,
                UpdateExpression="SET blocked_until = :b",
                ExpressionAttributeValues={":b": _dec(self._blocked_until)},
            )
        elif reset and self._window_end < reset < self._window_end + window_s():
            self._stretch(reset)

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
        start, end = round(now, 3), round(now + window_s(), 3)
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
