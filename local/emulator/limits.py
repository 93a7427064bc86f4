"""Per-token rate limits (fixed windows, ClickUp's headers) and request fault injection."""

from __future__ import annotations

import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local.emulator.models import PLAN_LIMITS


@dataclass
class Window:
    started: float
    count: int = 0


class RateLimiter:
    """Counts requests per token in fixed windows: `X-RateLimit-Limit/Remaining/Reset` on every answer."""

    def __init__(self, window_s: float = 60.0, reset_unit: str = "s") -> None:
        self.window_s = window_s
        self.reset_unit = reset_unit  # "s" (ClickUp's) or "ms" (to prove clients handle both)
        self.plan_limits = dict(PLAN_LIMITS)
        self.token_overrides: dict[str, int] = {}
        self._windows: dict[str, Window] = {}
        self._lock = threading.Lock()

    def configure(
        self, window_s: float | None = None, reset_unit: str | None = None, plan_limits: dict[str, int] | None = None
    ) -> None:
        with self._lock:
            if window_s is not None:
                self.window_s = float(window_s)
            if reset_unit in ("s", "ms"):
                self.reset_unit = reset_unit
            if plan_limits:
                self.plan_limits.update({k: int(v) for k, v in plan_limits.items()})
            self._windows.clear()

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self.token_overrides.clear()

    def hit(self, token: str, plan: str) -> tuple[bool, dict[str, str]]:
        limit = self.token_overrides.get(token, self.plan_limits.get(plan, 100))
        with self._lock:
            now = time.time()
            window = self._windows.get(token)
            if window is None or now >= window.started + self.window_s:
                window = self._windows[token] = Window(started=now)
            allowed = window.count < limit
            if allowed:
                window.count += 1
            reset_at = window.started + self.window_s
            reset = str(math.ceil(reset_at)) if self.reset_unit == "s" else str(int(reset_at * 1000))
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - window.count)),
                "X-RateLimit-Reset": reset,
            }
            return allowed, headers


@dataclass
class FaultRule:
    """What to do to requests that match: answer `status`, time out, or lose the response of a success."""

    action: str  # "status" | "timeout" | "lose_response"
    method: str | None = None
    path: str | None = None  # regex on the request path
    token: str | None = None
    status: int = 500
    body: dict[str, Any] | None = None
    count: int | None = None  # how many matching requests to affect (None: all)
    ratio: float = 1.0
    delay_s: float = 10.0
    id: int = 0
    hits: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def matches(self, method: str, path: str, token: str | None) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        if self.token and self.token != token:
            return False
        if self.path:
            self._pattern = self._pattern or re.compile(self.path)
            if not self._pattern.search(path):
                return False
        return True


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._ids = 0

    def add(self, spec: dict[str, Any]) -> FaultRule:
        allowed = {"action", "method", "path", "token", "status", "body", "count", "ratio", "delay_s"}
        unknown = set(spec) - allowed
        if unknown or spec.get("action") not in ("status", "timeout", "lose_response"):
            raise ValueError(f"fault needs action status|timeout|lose_response; unknown keys: {sorted(unknown)}")
        with self._lock:
            self._ids += 1
            rule = FaultRule(id=self._ids, **spec)
            self.rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def pick(self, method: str, path: str, token: str | None) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path, token) and self._random.random() < rule.ratio:
                    rule.hits += 1
                    return rule
            return None
