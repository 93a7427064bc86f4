"""A schedule's tick fanned out over the organisation index in bounded pages.

One tick message (EventBridge Scheduler's, or a continuation) is one page: up to `page_size` organisations read from
the index (`ORGS`, in key order, after the page's cursor), one job message queued per organisation with
SendMessageBatch (10 entries a call, the API's maximum), then the next page queued as a new message that carries the
cursor. The time left in the invocation is checked before every batch: below `RESERVE_S` the page stops where it is
and the rest continues in the new message, so no invocation runs into its timeout whatever the number of
organisations.

Exactly one job per organisation and tick, under every redelivery:
- each job message has a deduplication id derived from the job, the tick (its scheduled time) and the organisation,
  and each continuation one derived from the tick and its cursor, so a page delivered again within SQS FIFO's
  5-minute deduplication interval queues nothing twice (AWS: SQS Developer Guide, "Using the message deduplication
  ID"; an explicit id overrides content-based deduplication);
- beyond that interval (the maintenance queue's visibility timeout is 12 minutes), the job claims its tick with a
  conditional write before it runs (`bridge.repositories.tick_marks`), so a second message finds it taken.

Continuations stay in the tick's message group: a FIFO group delivers its next message only once the one in flight
is deleted, so the pages of a tick run one after another, never two at once (AWS: "FIFO queue logic")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from bridge.core.observability import logger, metrics
from bridge.queueing import producer
from bridge.queueing.messages import MaintenanceJob, MaintenanceTick, SyncCheck, SyncTick
from bridge.queueing.producer import BATCH_MAX
from bridge.repositories import org_index

RESERVE_S = 5.0  # stop below this much time left: one more batch and the continuation's send fit well within it


class FanOutError(RuntimeError):
    """SQS refused some job messages of a page twice: the page fails and is delivered again (its jobs are
    deduplicated, so what was queued before is not queued twice)."""


class NoTimeLeft(RuntimeError):
    """The invocation had no time left for even one batch of the page: hand the tick message back to run again
    (a continuation with the same cursor would carry the same deduplication id as the message itself, and SQS
    would drop it)."""


@dataclass(frozen=True)
class PageResult:
    """What one page did: `orgs` read from the index, `sent` job messages accepted by SQS (duplicates SQS dropped
    included), `sends` SendMessageBatch calls, `cursor` the last organisation handled (the next page starts after
    it), `continued` whether a continuation message was queued, `out_of_time` whether the time check cut the page."""

    orgs: int
    sent: int
    sends: int
    cursor: str | None
    continued: bool
    out_of_time: bool


def tick_id(scheduled_at: str | None, sent_timestamp_ms: str | int | None) -> str:
    """The tick's identity: the time Scheduler says it was scheduled for (`<aws.scheduler.scheduled-time>`, e.g.
    `2026-12-01T00:10:00Z`), else the SQS message's SentTimestamp (ms since the epoch, the same on every receive of
    that message) in the same ISO-8601 UTC shape, so ticks compare as text in time order."""
    if scheduled_at:
        return scheduled_at
    ms = int(sent_timestamp_ms or 0)
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_page(
    *,
    queue_url: str | None,
    tick_message: SyncTick | MaintenanceTick,
    job: Callable[[str], SyncCheck | MaintenanceJob],
    group_id: str,
    remaining_s: Callable[[], float],
    page_size: int,
) -> PageResult:
    """Fan one page of the tick out: `tick_message` is the tick with its `tick` (see `tick_id`) and `after` (the
    cursor, None for the first page); `job(org_id)` is that organisation's job (queued in the organisation's message
    group); both go through `bridge.queueing.producer` (its docstring names their ids), to `queue_url` when given, else
    the settings' queue of their kind. `remaining_s()`: seconds left in the invocation. Raises FanOutError (the
    page is delivered again) when SQS refuses job messages, NoTimeLeft when not even one batch fits in the time
    left."""
    kind, tick, after = tick_message.kind, str(tick_message.tick), tick_message.after
    orgs, more = org_index.page(after, page_size)
    cursor, sent, sends, out_of_time = after, 0, 0, False
    for chunk in _chunks(orgs, BATCH_MAX):
        if remaining_s() < RESERVE_S:
            out_of_time = True
            break
        try:
            producer.enqueue_batch([job(org) for org in chunk], queue_url=queue_url)
        except producer.BatchRefused as refused:
            raise FanOutError(f"SQS refused {len(refused.failed)} job messages: {refused.failed}") from refused
        sends += 1
        sent += len(chunk)
        cursor = chunk[-1]
    if out_of_time and cursor == after:
        raise NoTimeLeft(f"{remaining_s():.1f} s left: nothing of the page fits")
    continued = out_of_time or (more and bool(orgs))  # an empty page has nothing after it
    if continued:
        producer.enqueue(tick_message.model_copy(update={"after": cursor}), group_id=group_id, queue_url=queue_url)
    metrics.add_metric(name="TickJobsQueued", unit="Count", value=sent)
    logger.info(
        "tick page fanned out",
        extra={
            "tick_kind": kind,
            "tick": tick,
            "orgs": len(orgs),
            "queued": sent,
            "cursor": cursor,
            "continued": continued,
            "out_of_time": out_of_time,
        },
    )
    return PageResult(len(orgs), sent, sends, cursor, continued, out_of_time)
