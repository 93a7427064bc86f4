"""`python -m bench [name ...]`: run the named benchmarks (all by default)."""

from __future__ import annotations

import sys

from bench import (
    cold_start,
    outage,
    ratelimit,
    task_faults,
    task_latency,
    tick_fanout,
    webhook_ack,
    webhook_convergence,
)

BENCHMARKS = {
    "cold_start": cold_start.run,
    "outage": outage.run,
    "ratelimit_and_sync": ratelimit.run,
    "task_latency": task_latency.run,
    "task_faults": task_faults.run,
    "tick_fanout": tick_fanout.run,
    "webhook_ack": webhook_ack.run,
    "webhook_convergence": webhook_convergence.run,
}


def main(argv: list[str]) -> int:
    names = argv or [name for name in BENCHMARKS if name != "task_faults"]  # `make faults` runs that one
    for name in names:
        print(f"== {name}", flush=True)
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
