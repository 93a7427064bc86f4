"""SQS -> Lambda on the local stack: partial batches, redelivery, DLQ after maxReceiveCount, nothing lost."""

from __future__ import annotations

import json
import uuid

from infra import definitions as d
from local.pollers import MIN_SCALED_VISIBILITY_S
from local.stack import LocalStack
from tests.conftest import FLAKY_QUEUE, send, wait_for


def _worker(stack: LocalStack):
    from tests.fixtures.flaky_worker import journal

    return journal


def _dlq_bodies(stack: LocalStack, queue: str) -> list[dict]:
    assert stack.provisioned is not None
    sqs = stack.aws.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=stack.provisioned.dlq_urls[queue], MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def _attempts(worker, message_id: str) -> list[int]:
    return [s["receive_count"] for s in worker.seen if s["id"] == message_id]


def test_failing_message_is_redelivered_then_lands_in_the_dlq(stack: LocalStack) -> None:
    # Given a message the worker always fails on
    worker = _worker(stack)
    poison = f"poison-{uuid.uuid4().hex[:6]}"
    send(stack, "flaky", {"id": poison, "fail": True})

    # Then it is tried maxReceiveCount times, each a redelivery, and then moved to the DLQ intact
    wait_for(lambda: poison in [b["id"] for b in _dlq_bodies(stack, "flaky")], timeout_s=30)
    assert _attempts(worker, poison) == list(range(1, FLAKY_QUEUE.max_receive_count + 1))


def test_partial_batch_redelivers_only_failed_records(stack: LocalStack) -> None:
    # Given a batch where one record fails and two succeed
    worker = _worker(stack)
    tag = uuid.uuid4().hex[:6]
    ok_ids, bad_id = [f"ok1-{tag}", f"ok2-{tag}"], f"bad-{tag}"
    assert stack.provisioned is not None
    # One SendMessageBatch call: the three are visible together and arrive in one batch
    stack.aws.client("sqs").send_message_batch(
        QueueUrl=stack.provisioned.queue_urls["flaky"],
        Entries=[
            {"Id": str(i), "MessageBody": json.dumps(body)}
            for i, body in enumerate(({"id": ok_ids[0]}, {"id": bad_id, "fail": True}, {"id": ok_ids[1]}))
        ],
    )

    # Then the failed record is redelivered until the DLQ, the successful ones are never seen again
    wait_for(lambda: bad_id in [b["id"] for b in _dlq_bodies(stack, "flaky")], timeout_s=30)
    assert all(_attempts(worker, i) == [1] for i in ok_ids)
    assert len(_attempts(worker, bad_id)) == FLAKY_QUEUE.max_receive_count


def test_a_handler_that_raises_loses_nothing(stack: LocalStack) -> None:
    # Given a batch whose invocation crashes as a whole
    worker = _worker(stack)
    crash = f"crash-{uuid.uuid4().hex[:6]}"
    send(stack, "flaky", {"id": crash, "crash": True})

    # Then the message is neither processed nor dropped: it ends in the DLQ after the retries
    wait_for(lambda: crash in [b["id"] for b in _dlq_bodies(stack, "flaky")], timeout_s=30)
    assert _attempts(worker, crash) == []


def test_handlers_get_a_real_remaining_time_countdown(stack: LocalStack) -> None:
    worker = _worker(stack)
    send(stack, "flaky", {"id": f"clock-{uuid.uuid4().hex[:6]}"})
    wait_for(lambda: worker.remaining_ms)
    # 2 s timeout: the countdown starts just below it and is never above it
    assert 1_000 < worker.remaining_ms[-1] <= 2_000


def test_poison_sync_message_reaches_the_real_workers_dlq(stack: LocalStack) -> None:
    # Given a body the space_sync worker cannot parse, on its FIFO queue
    marker = uuid.uuid4().hex
    send(
        stack, "space-sync", {"kind": "bogus", "marker": marker}, MessageGroupId="org-x", MessageDeduplicationId=marker
    )
    # Then it is retried maxReceiveCount times (each after the scaled visibility timeout) and dead-lettered
    receives = d.queue("space-sync").max_receive_count
    wait_for(
        lambda: any(b.get("marker") == marker for b in _dlq_bodies(stack, "space-sync")),
        timeout_s=receives * MIN_SCALED_VISIBILITY_S + 40,
        interval_s=0.5,
    )
