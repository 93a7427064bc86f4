"""A schedule's tick fans out in bounded pages that continue in new messages (issue 15, defect 4): every organisation
of the index gets exactly one job per tick, a page delivered again queues nothing twice, and a page that finds the
invocation near its timeout stops and continues in a new message.

The pages run the bridge's own fan-out against a FIFO queue of this test's (real SQS, unpolled), so the test is
the consumer: it runs each page message as the worker would and counts the job messages instead of running them."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.stack import LocalStack
from tests.conftest import wait_for

# Ticks long past: the claims these tests make on the session's organisations never hold back a real tick.
TICK = "2000-01-01T00:10:00Z"


@pytest.fixture
def extra_orgs(stack: LocalStack) -> Iterator[list[str]]:
    """23 organisations added to the index (not connected: their jobs would find nothing to do)."""
    from bridge.repositories import org_index

    prefix = f"fanout-{uuid.uuid4().hex[:6]}"
    orgs = [f"{prefix}-{i:03d}" for i in range(23)]
    for org in orgs:
        org_index.add(org)
    yield orgs
    for org in orgs:
        org_index.remove(org)


@pytest.fixture
def queue(stack: LocalStack) -> Iterator[str]:
    sqs = stack.aws.client("sqs")
    url = str(
        sqs.create_queue(QueueName=f"fanout-test-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
    )
    yield url
    sqs.delete_queue(QueueUrl=url)


def _start(stack: LocalStack, queue: str, kind: str = "sweep_tick", tick: str | None = TICK) -> None:
    """The schedule's message, as Scheduler sends it (its group is the schedule's name)."""
    body = {"kind": kind, **({"tick": tick} if tick else {})}
    stack.aws.client("sqs").send_message(
        QueueUrl=queue, MessageBody=json.dumps(body), MessageGroupId="reconcile-tick", MessageDeduplicationId="t0"
    )


def _drive(
    stack: LocalStack,
    queue: str,
    page_size: int,
    redeliver: bool = False,
    remaining: Callable[[int], Callable[[], float]] = lambda page: lambda: 100.0,
) -> dict[str, Any]:
    """Consume the queue until it is empty: a tick page is run by `maintenance.tick` (again before it is deleted
    when `redeliver`: the same message received a second time); job messages are counted, claimed once per
    organisation and tick as the worker claims them, and left in flight until the end (SQS deduplicates against
    them)."""
    from bridge.queueing.messages import MaintenanceTick
    from bridge.repositories import tick_marks
    from bridge.webhooks import maintenance

    sqs = stack.aws.client("sqs")
    jobs: Counter[str] = Counter()
    claimed: Counter[str] = Counter()
    pages: list[Any] = []
    held: list[str] = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=60
        )
        messages = answer.get("Messages", [])
        if not messages:
            break
        for message in messages:
            body = json.loads(message["Body"])
            if body["kind"].endswith("_tick"):
                runs = 2 if redeliver else 1
                for _ in range(runs):
                    pages.append(
                        maintenance.tick(
                            MaintenanceTick(**body),
                            remaining(len(pages)),
                            group_id=message["Attributes"]["MessageGroupId"],
                            sent_timestamp_ms=message["Attributes"]["SentTimestamp"],
                            page_size=page_size,
                            queue_url=queue,
                        )
                    )
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            else:
                jobs[body["org_id"]] += 1
                assert body["kind"] == "sweep" and body["tick"]
                if tick_marks.claim(body["org_id"], body["kind"], body["tick"], message["MessageId"]):
                    claimed[body["org_id"]] += 1
                held.append(message["ReceiptHandle"])
    for handle in held:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    return {"jobs": jobs, "claimed": claimed, "pages": pages}


def _index() -> set[str]:
    from bridge.repositories import org_index

    return set(org_index.all_orgs())


def test_a_tick_over_more_organisations_than_a_page_gives_each_exactly_one_job(
    stack: LocalStack, extra_orgs: list[str], queue: str
) -> None:
    index = _index()
    assert set(extra_orgs) <= index and len(index) > 5
    _start(stack, queue)
    run = _drive(stack, queue, page_size=5)
    assert set(run["jobs"]) == index
    assert set(run["jobs"].values()) == {1}
    assert len(run["pages"]) >= len(index) // 5  # bounded pages, each continuing in a new message
    assert all(p.orgs <= 5 for p in run["pages"])
    assert [p.continued for p in run["pages"]][:-1] == [True] * (len(run["pages"]) - 1)
    assert not run["pages"][-1].continued


def test_a_page_delivered_again_queues_no_duplicate_job(stack: LocalStack, extra_orgs: list[str], queue: str) -> None:
    index = _index()
    _start(stack, queue, tick="2000-01-02T00:00:00Z")  # newer than the other tests' ticks: its claims are counted
    run = _drive(stack, queue, page_size=4, redeliver=True)
    assert sum(p.sent for p in run["pages"]) == 2 * len(index)  # every page was sent twice...
    assert set(run["jobs"]) == index and set(run["jobs"].values()) == {1}  # ...and SQS kept one job each
    # Each job claims its tick once; the other tests' organisations may hold a newer tick's claim already (the
    # session's schedules fire real ticks), so only this test's own organisations are sure to claim this one
    assert set(extra_orgs) <= set(run["claimed"]) <= index and set(run["claimed"].values()) == {1}


def test_a_job_queued_twice_for_one_tick_runs_once(stack: LocalStack, extra_orgs: list[str]) -> None:
    """Beyond SQS's 5-minute deduplication interval a page delivered again does queue its jobs again: the job's
    claim on the tick is what keeps it to one run (the same message received again keeps its claim)."""
    from bridge.repositories import tick_marks

    org = extra_orgs[0]
    assert tick_marks.claim(org, "sweep", "2000-01-01T00:30:00Z", "message-1")
    assert tick_marks.claim(org, "sweep", "2000-01-01T00:30:00Z", "message-1")  # received again: still its own
    assert not tick_marks.claim(org, "sweep", "2000-01-01T00:30:00Z", "message-2")  # a duplicate
    assert not tick_marks.claim(org, "sweep", "2000-01-01T00:20:00Z", "message-3")  # an older tick, late
    assert tick_marks.claim(org, "health", "2000-01-01T00:30:00Z", "message-4")  # another job, its own claim
    assert tick_marks.claim(org, "sweep", "2000-01-01T00:40:00Z", "message-5")  # the next tick


def test_an_invocation_near_its_timeout_stops_and_continues_in_a_new_message(
    stack: LocalStack, extra_orgs: list[str], queue: str
) -> None:
    from bridge.queueing.fanout import RESERVE_S

    index = _index()

    def remaining(page: int) -> Callable[[], float]:
        calls = iter(range(1_000_000))
        # the first invocation has time for 2 batches of 10, then runs low (the context's remaining time)
        return lambda: 60.0 if page > 0 or next(calls) < 2 else RESERVE_S - 0.5

    _start(stack, queue, tick="2000-01-01T00:50:00Z")
    run = _drive(stack, queue, page_size=1000, remaining=remaining)
    first = run["pages"][0]
    assert first.out_of_time and first.continued and first.sent == 20 and first.orgs > 20
    assert set(run["jobs"]) == index and set(run["jobs"].values()) == {1}
    assert not any(p.out_of_time for p in run["pages"][1:])


def test_a_page_without_time_for_one_batch_is_handed_back_whole(
    stack: LocalStack, extra_orgs: list[str], queue: str
) -> None:
    from bridge.queueing.fanout import NoTimeLeft
    from bridge.queueing.messages import MaintenanceTick
    from bridge.webhooks import maintenance

    with pytest.raises(NoTimeLeft):
        maintenance.tick(
            MaintenanceTick(kind="sweep_tick", tick=TICK), lambda: 1.0, group_id="g", page_size=5, queue_url=queue
        )
    assert not stack.aws.client("sqs").receive_message(QueueUrl=queue).get("Messages")  # nothing queued


def test_the_schedule_names_its_tick_by_its_scheduled_time(stack: LocalStack) -> None:
    """Scheduler replaces `<aws.scheduler.scheduled-time>` in the target's input; the local runner does the same,
    and a tick without it (a message sent by hand) is named by its SentTimestamp."""
    from bridge.queueing.fanout import tick_id
    from bridge.queueing.messages import maintenance_message_adapter
    from local.schedules import render_input

    assert stack.schedules is not None
    schedule = next(s for n, s in stack.schedules.schedules.items() if n.endswith("reconcile-tick"))
    body = render_input(schedule.target["Input"], {"scheduled-time": "2026-12-01T00:00:00Z"})
    message = maintenance_message_adapter.validate_json(body)
    assert message.tick == "2026-12-01T00:00:00Z"
    assert tick_id(None, "1796083200123") == "2026-12-01T00:00:00Z"
    with pytest.raises(ValueError):
        maintenance_message_adapter.validate_json(schedule.target["Input"])  # the keyword itself is no tick


def test_the_page_size_comes_from_the_functions_configuration(
    stack: LocalStack, extra_orgs: list[str], queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.core.config import settings
    from bridge.queueing.messages import MaintenanceTick
    from bridge.webhooks import maintenance

    monkeypatch.setenv("TICK_PAGE_SIZE", "7")
    settings.cache_clear()
    try:
        page = maintenance.tick(MaintenanceTick(kind="health_tick", tick=TICK), lambda: 60.0, queue_url=queue)
    finally:
        monkeypatch.delenv("TICK_PAGE_SIZE")
        settings.cache_clear()
    assert (page.orgs, page.sent, page.continued) == (7, 7, True)
    assert settings().tick_page_size == 1000


def test_the_worker_hands_a_page_back_when_its_invocation_is_nearly_over(
    stack: LocalStack, extra_orgs: list[str], queue: str
) -> None:
    """Through the function's handler and the local runtime's LambdaContext (a real countdown from the function's
    timeout): with a timeout inside the fan-out's reserve, the tick page queues nothing, is reported as a batch item
    failure and is visible again at once, to run in a new invocation."""
    import dataclasses

    from bridge.queueing.fanout import RESERVE_S
    from infra import definitions as d
    from local.aws import REGION
    from local.pollers import sqs_record
    from local.runtime import LocalFunction

    sqs = stack.aws.client("sqs")
    _start(stack, queue)
    other = {"kind": "health", "org_id": extra_orgs[0]}  # a job in the same batch (not connected: nothing to do)
    sqs.send_message(
        QueueUrl=queue, MessageBody=json.dumps(other), MessageGroupId=extra_orgs[0], MessageDeduplicationId="j1"
    )
    batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    message = next(m for m in batch if json.loads(m["Body"])["kind"] == "sweep_tick")
    assert len(batch) == 2
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    nearly_over = dataclasses.replace(d.function("maintenance"), timeout_s=int(RESERVE_S) - 1)
    result = LocalFunction(nearly_over, d.LOCAL_STAGE, REGION).invoke(
        {"Records": [sqs_record(m, arn, REGION) for m in batch]}
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}  # the job stands
    again = wait_for(lambda: sqs.receive_message(QueueUrl=queue, AttributeNames=["All"]).get("Messages"), timeout_s=5)
    assert [m["MessageId"] for m in again] == [message["MessageId"]]  # the same page, nothing queued before it


def test_a_page_continues_after_its_cursor_even_when_that_organisation_left_the_index(
    stack: LocalStack, extra_orgs: list[str]
) -> None:
    from bridge.repositories import org_index

    first, _ = org_index.page(extra_orgs[4], 3)
    assert first == extra_orgs[5:8]
    org_index.remove(extra_orgs[4])  # disconnected between two pages
    again, more = org_index.page(extra_orgs[4], 3)
    assert again == extra_orgs[5:8] and more


def test_a_connected_organisations_sync_check_queues_one_sync_per_tick(
    api: Any, auth: Any, org_id: str, workspace: dict[str, Any], stack: LocalStack
) -> None:
    """The space-sync tick's job, for a connected organisation with a stale hierarchy: the first message of a tick
    queues a sync; a second message for the same tick (a page delivered again after SQS's deduplication interval)
    queues none; the next tick's does."""
    from bridge.repositories import connections, sync_state
    from bridge.sync import service

    put = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    assert put.status_code == 200, put.text

    def synced_and_idle() -> bool:
        conn = connections.get(org_id)
        return bool(conn and conn.last_sync_at) and sync_state.get_state(org_id).get("state") == "idle"

    wait_for(synced_and_idle, timeout_s=30)
    connections.set_last_sync(org_id, "2020-01-01T00:00:00Z")  # stale
    assert service.check_stale(org_id, "2000-01-03T00:00:00Z", "message-1")
    wait_for(lambda: synced_and_idle() and connections.get(org_id).last_sync_at != "2020-01-01T00:00:00Z", 30)
    connections.set_last_sync(org_id, "2020-01-01T00:00:00Z")  # stale again
    assert not service.check_stale(org_id, "2000-01-03T00:00:00Z", "message-2")  # the same tick: no second sync
    assert sync_state.get_state(org_id).get("state") == "idle"
    assert service.check_stale(org_id, "2000-01-03T00:15:00Z", "message-3")  # the next tick
