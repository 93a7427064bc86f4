"""Where benchmark figures go: printed, and written as JSON under bench/results/."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def record(name: str, figures: dict[str, Any], quiet: bool = False) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "figures": figures,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    if not quiet:
        print(json.dumps(payload, indent=2))
    return path


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def percentile_ms(values: list[float], p: float) -> float | None:
    """The p-th percentile (0-1, nearest rank) of durations in seconds, in ms; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000, 1)
