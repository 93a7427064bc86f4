"""ClickUp allows N requests per window per token (100/min on most plans). Every ClickUp call of every function
for an organisation first takes one unit from a DynamoDB counter (conditional atomic increment), so concurrent
Lambdas together stay under the budget and never draw a 429; an organisation that spends its budget waits alone.

Rows: `RATE#{org}` / `STATE` (learned limit, current window end, blocked-until after a 429) and
`RATE#{org}` / `WINDOW#{end}` (the counter, expiring). Windows follow ClickUp's: one starts with the first request
after the previous one ended and lasts `CLICKUP_RATE_WINDOW_S` (60 s; tests and benchmarks shorten it).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from decimal import Decimal

from bridge.clickup.client import parse_reset
from bridge.clickup.errors import RateLimited
from bridge.repositories.table import is_conditional_failure, main_table, plain

DEFAULT_LIMIT = 100  # until ClickUp tells us (X-RateLimit-Limit)


def window_s() -> float:
    return float(os.environ.get("CLICKUP_RATE_WINDOW_S", "60"))


def budget_of(limit: int) -> int:
    """The share we use: the limit minus a small safety margin (2%, at least one request)."""
    return max(1, limit - max(1, math.ceil(limit * 0.02)))


class OrgRateLimiter:
    """RequestHooks for the ClickUp client: `before_request` takes budget, `after_response` learns."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self._pk = f"RATE#{org_id}"
        self._limit = DEFAULT_LIMIT
        self._window_end = 0.0
        self._blocked_until = 0.0

    # -- hooks -------------------------------------------------------------------------------------------
    def before_request(self) -> None:
        now = time.time()
        if self._blocked_until > now:
            raise RateLimited("ClickUp budget spent for this organisation", reset_at=self._blocked_until)
        if self._window_end <= now:
            self._load_window(now)
        if self._blocked_until > now:
            raise RateLimited("ClickUp budget spent for this organisation", reset_at=self._blocked_until)
        try:
            main_table().update_item(
                Key={"pk": self._pk, "sk": f"WINDOW#{self._window_end:.3f}"},
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
                raise RateLimited("ClickUp budget spent for this organisation", reset_at=self._window_end) from None
            raise

    def after_response(self, status: int, headers: Mapping[str, str]) -> None:
        limit = headers.get("X-RateLimit-Limit")
        if limit and limit.isdigit() and int(limit) != self._limit:
            self._limit = int(limit)
            main_table().update_item(
                Key={"pk": self._pk, "sk": "STATE"},
                UpdateExpression="SET #l = :l",
                ExpressionAttributeNames={"#l": "limit"},
                ExpressionAttributeValues={":l": self._limit},
            )
        if status == 429:
            # Spent anyway (another client of the same token, or a drifting window): wait for ClickUp's reset.
            reset = parse_reset(headers.get("X-RateLimit-Reset")) or time.time() + window_s()
            self._blocked_until = max(self._blocked_until, reset)
            main_table().update_item(
                Key={"pk": self._pk, "sk": "STATE"},
                UpdateExpression="SET blocked_until = :b, window_end = :b",
                ExpressionAttributeValues={":b": Decimal(str(round(reset, 3)))},
            )
            self._window_end = reset

    # -- windows -------------------------------------------------------------------------------------------
    def _load_window(self, now: float) -> None:
        table = main_table()
        state = plain(table.get_item(Key={"pk": self._pk, "sk": "STATE"}, ConsistentRead=True).get("Item") or {})
        self._limit = int(state.get("limit", self._limit))
        self._blocked_until = float(state.get("blocked_until", 0))
        stored_end = float(state.get("window_end", 0))
        if stored_end > now:
            self._window_end = stored_end
            return
        predicted = round(now + window_s(), 3)
        try:  # the first request after a window ended opens the next one, for every Lambda alike
            table.update_item(
                Key={"pk": self._pk, "sk": "STATE"},
                UpdateExpression="SET window_end = :e",
                ConditionExpression="attribute_not_exists(window_end) OR window_end <= :now",
                ExpressionAttributeValues={":e": Decimal(str(predicted)), ":now": Decimal(str(round(now, 3)))},
            )
            self._window_end = predicted
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            state = plain(table.get_item(Key={"pk": self._pk, "sk": "STATE"}, ConsistentRead=True)["Item"])
            self._window_end = float(state["window_end"])
