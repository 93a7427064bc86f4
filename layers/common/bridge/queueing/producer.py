"""The one way onto the bridge's queues: a typed message (`bridge.queueing.messages`) in, an SQS message out.

`enqueue(message)` (and `enqueue_batch(messages)`, 10 a SendMessageBatch call) serialise the message, validate the
body with the adapter its consumer reads it with (`task_message_adapter`, `sync_message_adapter`,
`maintenance_message_adapter`: a body the consumer would refuse raises `pydantic.ValidationError` and nothing is
sent), pick the queue from the function's settings by the message's `kind`, and set the FIFO queue's
MessageGroupId and MessageDeduplicationId by the queue's rule:

- `create` (TASK_QUEUE_URL): group `{org_id}:{ticket_id}` (its first 128 characters); deduplication id
  `create-{ticket_id}-{generation}`, or the caller's;
- `apply` (TASK_QUEUE_URL): group `{org_id}:{ticket_id}` (first 128); `op-{ticket_id}-{seq}`, or the caller's
  (required for a message without `seq`);
- `sync`, `refresh` (SYNC_QUEUE_URL): group `org_id`; a fresh UUID (hex), or the caller's;
- `check` (SYNC_QUEUE_URL): group `org_id` (first 128); `dedup_id("tick", tick, org_id)`;
- `sweep`, `health` (MAINTENANCE_QUEUE_URL): group `org_id` (first 128); with a `tick`,
  `dedup_id("<kind>_tick", tick, org_id)`, else a fresh UUID;
- `tick` (SYNC_QUEUE_URL), `sweep_tick`, `health_tick` (MAINTENANCE_QUEUE_URL): the caller's group (the tick's
  own); `dedup_id(kind, tick, "after", after)`.

Every deduplication id is cut to 128 characters (SQS API Reference, SendMessage: MessageGroupId and
MessageDeduplicationId at most 128 characters). A tick's job and its continuations carry ids derived from the tick,
so a page run twice queues nothing twice within SQS FIFO's 5-minute deduplication interval (SQS Developer Guide,
"Using the message deduplication ID"; see `bridge.queueing.fanout`); a ticket's creation and each accepted change
carry ids derived from the ticket, so a retried request queues its work once.

Two senders take bodies rather than models, each for a stated reason:
- `enqueue_deliveries(bodies)`: the webhook function's verified deliveries (`WebhookDelivery`, standard queue, no
  group). That function builds no pydantic model class at its cold start or on its ack path (issue 18: importing
  pydantic's model machinery costs about 110 ms here), so `bridge.webhooks.ingest` builds the body itself;
  `tests/unit/test_producer.py` proves that body is what `webhook_message_adapter` reads.
- `resend(...)`: `bridge.queueing.outage`'s copy of a received message with its retry state (a body the consumer
  validated when it first read it, plus the `bridge_retry` key its model does not know).

Only `bridge.core` is imported at module level; the message models are imported at the first send (the webhook
function imports this module at its cold start). SendMessageBatch needs no permission of its own: sqs:SendMessage
grants it (SQS Developer Guide, "Amazon SQS batch actions").
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from bridge.core import aws
from bridge.core.config import settings

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter

# SQS's message size limit: 1 MiB = 1,048,576 bytes, the body's UTF-8 bytes and its message attributes together
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html; raised from
# 256 KiB in August 2025). A SendMessageBatch call's payload is bounded by the same figure.
SQS_MAX_MESSAGE_BYTES = 1_048_576
BATCH_MAX = 10  # SendMessageBatch: at most 10 entries (SQS API Reference, SendMessageBatch)
ID_MAX = 128  # MessageGroupId, MessageDeduplicationId: at most 128 characters (SQS API Reference, SendMessage)

_TASK_KINDS = frozenset({"create", "apply"})
_SYNC_KINDS = frozenset({"tick", "check", "sync", "refresh"})
_MAINTENANCE_KINDS = frozenset({"sweep_tick", "health_tick", "sweep", "health"})
_TICK_KINDS = frozenset({"tick", "sweep_tick", "health_tick"})


class BatchRefused(RuntimeError):
    """SQS refused some entries of a SendMessageBatch call, on both tries (`failed`: the entries' ids)."""

    def __init__(self, failed: list[str]) -> None:
        super().__init__(f"SQS refused {len(failed)} messages: {sorted(failed)}")
        self.failed = failed


@dataclass(frozen=True)
class Outgoing:
    """One SQS message ready to send: `queue_url`, `body` (JSON), and on a FIFO queue `group_id` and `dedup_id`."""

    queue_url: str
    body: str
    group_id: str | None = None
    dedup_id: str | None = None

    def params(self) -> dict[str, str]:
        """The SendMessage parameters past QueueUrl (a SendMessageBatch entry's too, with an `Id`)."""
        out = {"MessageBody": self.body}
        if self.group_id is not None:
            out["MessageGroupId"] = self.group_id
        if self.dedup_id is not None:
            out["MessageDeduplicationId"] = self.dedup_id
        return out


def dedup_id(*parts: str) -> str:
    """A MessageDeduplicationId for `parts`: hex SHA-256, 64 characters (SQS allows up to 128, alphanumerics and
    punctuation)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@cache
def _adapters() -> dict[str, TypeAdapter[Any]]:
    """Each queue's consumer adapter, by settings field (built at the first send: the models are `defer_build`)."""
    from bridge.queueing import messages

    return {
        "task_queue_url": messages.task_message_adapter,
        "sync_queue_url": messages.sync_message_adapter,
        "maintenance_queue_url": messages.maintenance_message_adapter,
    }


def _queue_field(kind: str) -> str:
    if kind in _TASK_KINDS:
        return "task_queue_url"
    if kind in _SYNC_KINDS:
        return "sync_queue_url"
    if kind in _MAINTENANCE_KINDS:
        return "maintenance_queue_url"
    raise ValueError(f"no queue takes a message of kind {kind!r}")


def _task_dedup(message: Any) -> str:
    if message.kind == "create":
        return f"create-{message.ticket_id}-{message.generation}"
    if "seq" not in message.model_fields_set:
        raise ValueError("an apply message without `seq` needs the caller's deduplication id")
    return f"op-{message.ticket_id}-{message.seq}"


def _ids(message: Any, group_id: str | None, dedup: str | None) -> tuple[str, str]:
    """The message's (MessageGroupId, MessageDeduplicationId) by the rules of the module's list."""
    kind = message.kind
    if kind in _TICK_KINDS:
        if group_id is None:
            raise ValueError(f"a {kind!r} message goes in its tick's group: pass group_id")
        return group_id, dedup_id(kind, message.tick or "", "after", message.after or "")
    if kind in _TASK_KINDS:
        return f"{message.org_id}:{message.ticket_id}"[:ID_MAX], (dedup or _task_dedup(message))[:ID_MAX]
    if kind in ("sync", "refresh"):
        return message.org_id, dedup or uuid.uuid4().hex
    if kind == "check":
        return message.org_id[:ID_MAX], dedup_id("tick", message.tick, message.org_id)
    if message.tick is not None:  # a tick's sweep or health job
        return message.org_id[:ID_MAX], dedup_id(f"{kind}_tick", message.tick, message.org_id)
    return message.org_id[:ID_MAX], dedup or uuid.uuid4().hex


def outgoing(
    message: BaseModel, *, group_id: str | None = None, dedup: str | None = None, queue_url: str | None = None
) -> Outgoing:
    """The SQS message for `message` (a model of `bridge.queueing.messages` but `WebhookDelivery`): its body (the
    fields the caller set, as JSON), validated by its consumer's adapter, its queue (`queue_url` overrides the
    settings' one: tests' own queues) and ids (see the module's list; `dedup` replaces the kind's default id
    where the list says "or the caller's", `group_id` names a tick's group). Raises `pydantic.ValidationError`
    for a body the consumer would refuse, ValueError for a kind no queue takes or an id the rules cannot make."""
    kind = str(getattr(message, "kind", ""))
    field = _queue_field(kind)
    body = json.dumps(message.model_dump(mode="json", exclude_unset=True))
    _adapters()[field].validate_json(body)  # what the consumer reads, or nothing is sent
    group, dedup_value = _ids(message, group_id, dedup)
    return Outgoing(queue_url or str(getattr(settings(), field)), body, group, dedup_value)


def enqueue(
    message: BaseModel, *, group_id: str | None = None, dedup: str | None = None, queue_url: str | None = None
) -> Outgoing:
    """Send `message` (see `outgoing` for its queue, ids and errors) with SendMessage; returns what was sent."""
    out = outgoing(message, group_id=group_id, dedup=dedup, queue_url=queue_url)
    aws.client("sqs").send_message(QueueUrl=out.queue_url, **out.params())
    return out


def _chunks(items: Sequence[Outgoing], size: int) -> Iterator[Sequence[Outgoing]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _send_batch(queue_url: str, entries: list[dict[str, str]]) -> None:
    """One SendMessageBatch call, and once more for the entries SQS failed on its side; BatchRefused when some
    still fail."""
    sqs = aws.client("sqs")
    pending = entries
    failed: set[str] = set()
    for _ in range(2):
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=pending)
        failed = {f["Id"] for f in answer.get("Failed", [])}
        if not failed:
            return
        pending = [e for e in pending if e["Id"] in failed]
    raise BatchRefused(sorted(failed))


def enqueue_batch(messages: Sequence[BaseModel], *, queue_url: str | None = None) -> int:
    """Send `messages` (each as `outgoing` makes it, all of one queue) 10 a SendMessageBatch call, each call's
    failed entries tried once more; returns the number of calls. Every message is validated before the first call;
    raises BatchRefused when SQS refuses entries twice (those of earlier calls were sent)."""
    prepared = [outgoing(m, queue_url=queue_url) for m in messages]
    if len({o.queue_url for o in prepared}) > 1:
        raise ValueError("a batch goes to one queue")
    calls = 0
    for chunk in _chunks(prepared, BATCH_MAX):
        _send_batch(chunk[0].queue_url, [{"Id": str(i), **o.params()} for i, o in enumerate(chunk)])
        calls += 1
    return calls


def enqueue_deliveries(bodies: Sequence[str]) -> None:
    """Send the webhook function's delivery bodies (JSON `WebhookDelivery`s, built by `bridge.webhooks.ingest`: see
    the module's docstring) to WEBHOOK_QUEUE_URL, a standard queue (no group, no deduplication id): one SendMessage
    for a single body, else SendMessageBatch calls of at most 10 bodies and SQS_MAX_MESSAGE_BYTES each. Raises
    RuntimeError when SQS refuses any entry of a batch (the caller answers 5xx and ClickUp delivers again)."""
    sqs = aws.client("sqs")
    url = settings().webhook_queue_url
    batch: list[dict[str, str]] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if len(batch) == 1:
            sqs.send_message(QueueUrl=url, MessageBody=batch[0]["MessageBody"])
        elif batch:
            answer = sqs.send_message_batch(QueueUrl=url, Entries=batch)
            if answer.get("Failed"):
                raise RuntimeError(f"{len(answer['Failed'])} deliveries could not be queued")
        batch, size = [], 0

    for n, body in enumerate(bodies):
        body_bytes = len(body.encode("utf-8"))
        if batch and (len(batch) == BATCH_MAX or size + body_bytes > SQS_MAX_MESSAGE_BYTES):
            flush()
        batch.append({"Id": str(n), "MessageBody": body})
        size += body_bytes
    flush()


def resend(queue_url: str, body: str, *, group_id: str | None, dedup: str | None, delay_s: int | None) -> None:
    """Send a copy of a received message (`bridge.queueing.outage`): `body` as it is, to `queue_url`; on a FIFO
    queue with `group_id` and `dedup` (cut to 128 characters), on a standard one with DelaySeconds `delay_s`."""
    params: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": body}
    if group_id is not None:
        params["MessageGroupId"] = group_id
        params["MessageDeduplicationId"] = (dedup or "")[:ID_MAX]
    if delay_s is not None:
        params["DelaySeconds"] = delay_s
    aws.client("sqs").send_message(**params)
