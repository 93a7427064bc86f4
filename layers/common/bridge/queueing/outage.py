"""Ride out a dependency's outage without spending a record's receives: nothing accepted is dead-lettered
because ClickUp (or a portal) was down.

SQS dead-letters a message after `maxReceiveCount` receives (SQS Developer Guide, "Using dead-letter queues"),
and a hand-back by visibility (`bridge/queueing/handback.py`) is a receive. A worker that found its dependency
unavailable therefore **re-sends** the record instead of failing it: a copy of the body carrying a retry state
(`bridge_retry`: the original message id, the number of outage failures, the first one's time, and when the
copy is due), then reports the original as processed (Lambda deletes it). The copy starts with a receive count
of 0, so only poison messages (a handler that raises for another reason) ever reach the DLQ.

- Standard queues delay the copy with `DelaySeconds` (at most 900 s, SQS API Reference, "SendMessage").
- FIFO queues refuse a per-message delay (SQS Developer Guide, "Amazon SQS delay queues": "FIFO queues don't
  support per-message delays"): the copy goes to the end of its message group, and its first receive hands it
  back (visibility) until it is due, which spends one receive of the copy. A FIFO copy keeps the message group
  and is deduplicated on `{origin}-{attempt}`, so a worker dying between send and delete sends it once.
- The delays grow with the number of outage failures (the policy's `delays_s`, the last repeating), so a long
  outage costs one ClickUp request per record and delay (15 min at most for ClickUp) and never hammers it.
- A re-sent copy starts SQS's retention again, so the bound is the policy's own `give_up_after_s`, counted from
  the first failure; after it the record is no longer re-sent: it fails as any other record would (and each
  worker first turns it into a state the portal sees, e.g. a `failed` task link).

Every delay is multiplied by `RETRY_TIME_SCALE` (1 on AWS; the local stack's tests shrink time with it).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from bridge.core import aws
from bridge.core.config import settings
from bridge.core.observability import logger, metrics
from bridge.queueing import producer
from bridge.queueing.handback import MAX_VISIBILITY_S, _queue_url

RETRY_KEY = "bridge_retry"
MAX_DELAY_SECONDS = 900  # SQS SendMessage DelaySeconds: 0..900


@dataclass(frozen=True)
class OutagePolicy:
    """How a consumer waits for a dependency: `delays_s` between tries by outage failure count (seconds, the last
    repeats), and `give_up_after_s` after the first failure (seconds) when the record stops being re-sent."""

    delays_s: tuple[int, ...]
    give_up_after_s: int

    @property
    def longest_chain_s(self) -> int:
        """The seconds from the first failure until the delays reach their cap (the back-off chain)."""
        return sum(self.delays_s)


# ClickUp: 2 s .. 15 min, for 14 days (SQS's longest retention: the limit a single message could ever have had).
CLICKUP_OUTAGE = OutagePolicy(delays_s=(2, 5, 15, 30, 60, 120, 300, 600, 900), give_up_after_s=14 * 86400)
# A portal: 5 s .. 1 h, for 3 days (the events feed keeps every event 30 days: a portal can always pull them).
PORTAL_OUTAGE = OutagePolicy(delays_s=(5, 15, 60, 300, 900, 1800, 3600), give_up_after_s=3 * 86400)


class RetryState(BaseModel):
    """What a re-sent record carries: `origin_id` (the first message's id), `attempt` (outage failures so far),
    `first_failure_ms` and `not_before_ms` (epoch milliseconds, UTC)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    origin_id: str
    attempt: int
    first_failure_ms: int
    not_before_ms: int = 0


class NotDue(Exception):
    """A FIFO copy received before it is due: it was handed back (a batch item failure)."""


def unwrap(body: str) -> tuple[str, RetryState | None]:
    """Split a record's body into the message (as its consumer's model reads it) and its retry state, if any.
    A retry state that does not parse is dropped (the message is then handled as a first try)."""
    if RETRY_KEY not in body:
        return body, None
    try:
        data = json.loads(body)
    except ValueError:
        return body, None
    if not isinstance(data, dict) or RETRY_KEY not in data:
        return body, None
    raw = data.pop(RETRY_KEY)
    try:
        state = RetryState.model_validate(raw)
    except ValidationError:
        state = None
    return json.dumps(data), state


def origin_id(record: Any, state: RetryState | None) -> str:
    """The id of the message as first received (stable across re-sends): what a consumer keys its work by."""
    return state.origin_id if state else str(record.message_id)


def hold_until_due(record: Any, state: RetryState | None) -> None:
    """Raise `NotDue` (after handing the record back) when a copy arrives before it is due (FIFO queues)."""
    if state is None:
        return
    wait_s = state.not_before_ms / 1000 - time.time()
    if wait_s < 0.5:
        return
    delay = min(MAX_VISIBILITY_S, max(1, math.ceil(wait_s)))
    aws.client("sqs").change_message_visibility(
        QueueUrl=_queue_url(record.event_source_arn), ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
    )
    raise NotDue(f"due in {delay} s")


def reschedule(record: Any, body: str, state: RetryState | None, policy: OutagePolicy, reason: str) -> bool:
    """Re-send `body` (the unwrapped message) with a grown delay; the caller then reports the record as processed.

    Returns False, sending nothing, once the outage has outlasted `policy.give_up_after_s` since its first failure:
    the caller must then end the work visibly (or let it fail toward the DLQ)."""
    now_ms = int(time.time() * 1000)
    attempt = (state.attempt if state else 0) + 1
    first = state.first_failure_ms if state else now_ms
    if now_ms - first >= policy.give_up_after_s * 1000:
        metrics.add_metric(name="OutageGaveUp", unit="Count", value=1)
        logger.warning("dependency unavailable for too long: no more retries", extra={"attempt": attempt})
        return False
    delay_s = policy.delays_s[min(attempt, len(policy.delays_s)) - 1] * settings().retry_time_scale
    new = RetryState(
        origin_id=origin_id(record, state),
        attempt=attempt,
        first_failure_ms=first,
        not_before_ms=now_ms + int(delay_s * 1000),
    )
    data = json.loads(body)
    data[RETRY_KEY] = new.model_dump()
    fifo = record.event_source_arn.endswith(".fifo")
    producer.resend(
        _queue_url(record.event_source_arn),
        json.dumps(data),
        group_id=record.attributes.message_group_id if fifo else None,
        dedup=f"{new.origin_id}-{attempt}" if fifo else None,
        delay_s=None if fifo else min(MAX_DELAY_SECONDS, max(0, math.ceil(delay_s))),
    )
    metrics.add_metric(name="RecordsRescheduled", unit="Count", value=1)
    logger.info(
        "dependency unavailable: record re-sent",
        extra={"attempt": attempt, "due_in_s": round(delay_s, 3), "reason": reason},
    )
    return True
