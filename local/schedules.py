"""EventBridge Scheduler, locally: fires each schedule provisioned in moto at its rate, or on demand.

The runner reads the schedules back from moto's Scheduler, so it fires exactly what the stack declares.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("local.schedules")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    m = _RATE.match(expression)
    if not m:
        raise ValueError(f"unsupported schedule expression {expression!r}")
    return int(m.group(1)) * _UNIT_S[m.group(2).rstrip("s")]


@dataclass
class LocalSchedule:
    name: str
    period_s: float
    target: dict[str, Any]
    next_at: float
    fired: int = 0
    arn: str = ""


def with_context_attributes(text: str, schedule: LocalSchedule, scheduled_at: float, attempt: int = 1) -> str:
    """The target's input as Scheduler sends it: each context attribute keyword replaced by its value (Scheduler User
    Guide, "Adding context attributes": schedule-arn, scheduled-time as `2022-03-22T18:59:43Z`, execution-id,
    attempt-number)."""
    values = {
        "<aws.scheduler.schedule-arn>": schedule.arn,
        "<aws.scheduler.scheduled-time>": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(scheduled_at)),
        "<aws.scheduler.execution-id>": uuid.uuid4().hex[:16],
        "<aws.scheduler.attempt-number>": str(attempt),
    }
    for keyword, value in values.items():
        text = text.replace(keyword, value)
    return text


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
        """Deliver the schedule's input to its target now. `name` may omit the stage prefix."""
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
        url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        body = with_context_attributes(target.get("Input") or "{}", schedule, time.time())
        kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            kwargs.update(MessageGroupId=group, MessageDeduplicationId=uuid.uuid4().hex)
        message_id = self._sqs.send_message(**kwargs)["MessageId"]
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
