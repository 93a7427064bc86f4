"""EventBridge Scheduler, locally: fires each schedule provisioned in moto at its rate, or on demand.

The runner reads the schedules back from moto's Scheduler, so it fires exactly what the stack declares, and
delivers what Scheduler's templated SQS target delivers, nothing more: the input as the body, its context
attributes replaced, and `SqsParameters.MessageGroupId` (never a deduplication id: a FIFO target without
content-based deduplication refuses the send, as on AWS). Sources: EventBridge Scheduler user guide, "Adding
context attributes" and "Using templated targets"; Scheduler API reference, `SqsParameters`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger("local.schedules")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    m = _RATE.match(expression)
    if not m:
        raise ValueError(f"unsupported schedule expression {expression!r}")
    return int(m.group(1)) * _UNIT_S[m.group(2).rstrip("s")]


class ScheduleDeliveryFailed(Exception):
    """The target refused the schedule's delivery (Scheduler would retry it, then dead-letter or drop it)."""


@dataclass
class LocalSchedule:
    name: str
    period_s: float
    target: dict[str, Any]
    next_at: float
    arn: str = ""
    fired: int = 0
    failed: int = 0
    last_scheduled_s: int = 0  # the last scheduled time fired (Unix seconds)
    errors: list[str] = field(default_factory=list)

    def next_scheduled_time(self) -> str:
        """The scheduled time of this firing, as Scheduler writes it (UTC, whole seconds, e.g. 2022-03-22T18:59:43Z).

        Scheduler invokes each scheduled time once; locally a schedule can also be fired on demand, so a firing in
        the same second as the previous one takes the next second: every tick has a time of its own."""
        self.last_scheduled_s = max(int(time.time()), self.last_scheduled_s + 1)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_scheduled_s))


def render_input(template: str, context: dict[str, str]) -> str:
    """The target input with Scheduler's context attribute keywords replaced by their values."""
    for keyword, value in context.items():
        template = template.replace(f"<aws.scheduler.{keyword}>", value)
    return template


class ScheduleRunner:
    def __init__(self, scheduler: Any, sqs: Any, time_scale: float = 1.0) -> None:
        self._sqs = sqs
        self._stop = threading.Event()
        self._only: set[str] | None = None
        self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)
        self.schedules: dict[str, LocalSchedule] = {}
        now = time.monotonic()
        for summary in scheduler.list_schedules()["Schedules"]:
            full = scheduler.get_schedule(Name=summary["Name"])
            if full.get("State", "ENABLED") != "ENABLED":
                continue
            period = rate_seconds(full["ScheduleExpression"]) * time_scale
            self.schedules[full["Name"]] = LocalSchedule(
                full["Name"], period, full["Target"], now + period, arn=full.get("Arn", "")
            )

    def start(self, only: set[str] | None = None) -> ScheduleRunner:
        """Fire every schedule at its rate, or only the named ones (a test watching one schedule keeps the
        others' work, e.g. a sweep over every organisation, out of the tests that follow)."""
        self._only = only
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def fire(self, name: str) -> str:
        """Deliver the schedule's input to its target now. `name` may omit the stage prefix.

        Returns the SQS message id; raises `ScheduleDeliveryFailed` when the target refuses the message (counted in
        `failed`, the reason kept in `errors`), `KeyError` for an unknown schedule."""
        schedule = self.schedules.get(name) or next(
            (s for n, s in self.schedules.items() if n.endswith("-" + name)), None
        )
        if schedule is None:
            raise KeyError(name)
        target = schedule.target
        arn = target["Arn"]
        if not arn.startswith("arn:aws:sqs:"):
            raise ValueError(f"unsupported schedule target {arn}")
        queue_name = arn.rsplit(":", 1)[1]
        context = {
            "schedule-arn": schedule.arn,
            "scheduled-time": schedule.next_scheduled_time(),
            "execution-id": uuid.uuid4().hex[:16],
            "attempt-number": "1",
        }
        # The templated SQS target: the input is the body ("{}"-less: Scheduler sends what Input holds).
        kwargs: dict[str, Any] = {"MessageBody": render_input(target.get("Input") or "", context)}
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            kwargs["MessageGroupId"] = group
        try:
            url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            message_id = self._sqs.send_message(QueueUrl=url, **kwargs)["MessageId"]
        except ClientError as exc:
            schedule.failed += 1
            schedule.errors.append(str(exc))
            log.error("schedule %s could not deliver to %s: %s", schedule.name, queue_name, exc)
            raise ScheduleDeliveryFailed(f"{schedule.name} -> {queue_name}: {exc}") from exc
        schedule.fired += 1
        log.info("schedule %s fired -> %s", schedule.name, queue_name)
        return str(message_id)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            now = time.monotonic()
            for schedule in self.schedules.values():
                if self._only is not None and schedule.name not in self._only:
                    continue
                if now >= schedule.next_at:
                    schedule.next_at = now + schedule.period_s
                    try:
                        self.fire(schedule.name)
                    except Exception:
                        log.exception("schedule %s failed to fire", schedule.name)
