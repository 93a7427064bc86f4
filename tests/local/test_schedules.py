"""The schedule runner fires what the stack declares: at its (time-scaled) rate, and on demand."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from infra import definitions as d
from local.schedules import ScheduleDeliveryFailed, ScheduleRunner
from local.stack import LocalStack
from tests.conftest import wait_for


def test_every_declared_schedule_is_running(stack: LocalStack) -> None:
    assert stack.schedules is not None
    assert sorted(stack.schedules.schedules) == sorted(s.physical_name(d.LOCAL_STAGE) for s in d.SCHEDULES)


def test_schedule_fires_at_its_scaled_rate_and_reaches_the_worker(stack: LocalStack) -> None:
    assert stack.schedules is not None
    tick = stack.schedules.schedules[d.SCHEDULES[0].physical_name(d.LOCAL_STAGE)]
    before_fired, before_calls = tick.fired, stack.functions["space_sync"].invocations
    stack.schedules.start(only={tick.name})
    try:
        wait_for(lambda: tick.fired > before_fired, timeout_s=15)  # 15 min x 0.005 = 4.5 s
        wait_for(lambda: stack.functions["space_sync"].invocations > before_calls, timeout_s=15)
    finally:
        stack.schedules.stop()


def test_schedule_fires_on_demand(stack: LocalStack, api: httpx.Client) -> None:
    before = stack.functions["space_sync"].invocations
    response = api.post("/_local/schedules/space-sync-tick/fire")
    assert response.status_code == 200 and response.json()["message_id"]
    wait_for(lambda: stack.functions["space_sync"].invocations > before)
    assert api.post("/_local/schedules/nope/fire").status_code == 404


@contextmanager
def _scheduled_queue(stack: LocalStack, schedule: d.ScheduleDef, content_based_deduplication: bool) -> Iterator[Any]:
    """A FIFO queue and a schedule on it, provisioned like the stack's own, removed afterwards."""
    sqs, scheduler = stack.aws.client("sqs"), stack.aws.client("scheduler")
    name = f"sched-test-{uuid.uuid4().hex[:8]}.fifo"
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": str(content_based_deduplication).lower()},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    physical = f"sched-test-{uuid.uuid4().hex[:8]}"
    scheduler.create_schedule(
        Name=physical,
        ScheduleExpression=schedule.expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": arn,
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": schedule.input,
            "SqsParameters": {"MessageGroupId": schedule.name},
        },
    )
    try:
        runner = ScheduleRunner(scheduler, sqs)
        yield runner, physical, url
    finally:
        scheduler.delete_schedule(Name=physical)
        sqs.delete_queue(QueueUrl=url)


def test_a_fifo_target_without_content_based_deduplication_refuses_every_tick(stack: LocalStack) -> None:
    """What Scheduler sends (a message group id, no deduplication id) is refused by such a queue, as on AWS."""
    with _scheduled_queue(stack, d.SCHEDULES[0], content_based_deduplication=False) as (runner, name, url):
        with pytest.raises(ScheduleDeliveryFailed, match="ContentBasedDeduplication"):
            runner.fire(name)
        assert runner.schedules[name].failed == 1 and runner.schedules[name].fired == 0
        assert "Messages" not in stack.aws.client("sqs").receive_message(QueueUrl=url)


@pytest.mark.parametrize("schedule", d.SCHEDULES, ids=lambda s: s.name)
def test_each_tick_has_its_own_body_and_a_retried_tick_is_dropped(stack: LocalStack, schedule: d.ScheduleDef) -> None:
    """Content-based deduplication drops a body seen in the last 5 minutes: the scheduled time makes each tick's
    body unique (two ticks, two messages), and the message parses as the worker's tick."""
    from bridge.queueing.messages import maintenance_message_adapter, sync_message_adapter

    adapter = sync_message_adapter if d.queue(schedule.queue).name == "space-sync" else maintenance_message_adapter
    sqs = stack.aws.client("sqs")
    with _scheduled_queue(stack, schedule, content_based_deduplication=True) as (runner, name, url):
        first, second = runner.fire(name), runner.fire(name)
        assert first != second
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
        assert len(received) == 2
        bodies = [json.loads(m["Body"]) for m in received]
        assert bodies[0]["tick"] != bodies[1]["tick"]
        for message, body in zip(received, bodies, strict=True):
            assert {k: v for k, v in body.items() if k != "tick"} == {
                k: v for k, v in schedule.payload.items() if k != "tick"
            }
            assert message["Attributes"]["MessageGroupId"] == schedule.name
            tick = adapter.validate_json(message["Body"])
            assert tick.tick is not None and tick.tick.endswith("Z")  # the scheduled time, UTC
            # The same tick delivered again (a Scheduler retry) carries the same body: SQS drops it.
            sqs.send_message(QueueUrl=url, MessageBody=message["Body"], MessageGroupId=schedule.name)
        for message in received:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
