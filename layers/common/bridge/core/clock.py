"""Timestamps as the bridge stores and returns them: UTC, ISO 8601, seconds, trailing Z."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
