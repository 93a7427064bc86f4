"""The one producer (`bridge.queueing.producer`) against a fake SQS client: each kind of message goes to its queue with
the group and deduplication id its queue's exactly-once rules need, its body is what its consumer reads, and a body
the consumer would refuse is refused before anything is sent."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bridge.core import aws
from bridge.queueing import producer
from bridge.queueing.messages import (
    MaintenanceJob,
    MaintenanceTick,
    SyncCheck,
    SyncRefresh,
    SyncRequest,
    SyncTick,
    TaskApply,
    TaskCreate,
    maintenance_message_adapter,
    sync_message_adapter,
    task_message_adapter,
    webhook_message_adapter,
)
from bridge.webhooks.ingest import SQS_MAX_MESSAGE_BYTES, Hook, _message

TICK = "2026-12-01T00:15:00Z"
URLS = {
    "task_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/task-create.fifo",
    "sync_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/space-sync.fifo",
    "maintenance_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/maintenance.fifo",
    "webhook_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/webhook-events",
}


class FakeSQS:
    """Records SendMessage / SendMessageBatch calls; `fail_ids` lists, per batch call, the entry ids it fails."""

    def __init__(self, fail_ids: list[set[str]] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.batches: list[dict[str, Any]] = []
        self.fail_ids = list(fail_ids or [])

    def send_message(self, **params: Any) -> dict[str, Any]:
        self.sent.append(params)
        return {"MessageId": str(len(self.sent))}

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches.append({"QueueUrl": QueueUrl, "Entries": Entries})
        failing = self.fail_ids.pop(0) if self.fail_ids else set()
        return {
            "Successful": [{"Id": e["Id"]} for e in Entries if e["Id"] not in failing],
            "Failed": [
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in Entries if e["Id"] in failing
            ],
        }


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> FakeSQS:
    fake = FakeSQS()
    monkeypatch.setattr(aws, "client", lambda service: fake if service == "sqs" else pytest.fail(service))
    monkeypatch.setattr(producer, "settings", lambda: SimpleNamespace(**URLS))
    return fake


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# (message, caller's dedup, caller's group, queue, MessageGroupId, MessageDeduplicationId or None for a fresh UUID)
CASES: list[tuple[BaseModel, str | None, str | None, str, str, str | None]] = [
    (TaskCreate(kind="create", org_id="o1", ticket_id="t1", generation=3), None, None, "task", "o1:t1", "create-t1-3"),
    (TaskCreate(kind="create", org_id="o1", ticket_id="t1"), "resume-abc", None, "task", "o1:t1", "resume-abc"),
    (TaskApply(kind="apply", org_id="o1", ticket_id="t1", seq=7), None, None, "task", "o1:t1", "op-t1-7"),
    (TaskApply(kind="apply", org_id="o1", ticket_id="t1"), "retry-x", None, "task", "o1:t1", "retry-x"),
    (SyncRequest(kind="sync", org_id="o1", reason="resume"), None, None, "sync", "o1", None),
    (SyncRefresh(kind="refresh", org_id="o1", workspace_id="w", space_id="s"), None, None, "sync", "o1", None),
    (SyncCheck(kind="check", org_id="o1", tick=TICK), None, None, "sync", "o1", _sha("tick", TICK, "o1")),
    (SyncTick(kind="tick", tick=TICK, after="o9"), None, "g", "sync", "g", _sha("tick", TICK, "after", "o9")),
    (MaintenanceJob(kind="sweep", org_id="o1"), None, None, "maintenance", "o1", None),
    (
        MaintenanceJob(kind="sweep", org_id="o1", tick=TICK),
        None,
        None,
        "maintenance",
        "o1",
        _sha("sweep_tick", TICK, "o1"),
    ),
    (
        MaintenanceJob(kind="health", org_id="o1", tick=TICK),
        None,
        None,
        "maintenance",
        "o1",
        _sha("health_tick", TICK, "o1"),
    ),
    (
        MaintenanceTick(kind="health_tick", tick=TICK, after="o2"),
        None,
        "health_tick",
        "maintenance",
        "health_tick",
        _sha("health_tick", TICK, "after", "o2"),
    ),
]
ADAPTERS = {"task": task_message_adapter, "sync": sync_message_adapter, "maintenance": maintenance_message_adapter}


@pytest.mark.parametrize(("message", "dedup", "group", "queue", "group_id", "dedup_id"), CASES)
def test_each_kind_goes_to_its_queue_with_its_group_and_deduplication_id(
    sqs: FakeSQS,
    message: BaseModel,
    dedup: str | None,
    group: str | None,
    queue: str,
    group_id: str,
    dedup_id: str | None,
) -> None:
    producer.enqueue(message, dedup=dedup, group_id=group)
    (sent,) = sqs.sent
    assert sent["QueueUrl"] == URLS[f"{queue}_queue_url"]
    assert sent["MessageGroupId"] == group_id
    if dedup_id is None:  # a fresh id per send: two sends of the same message are two messages
        assert len(sent["MessageDeduplicationId"]) == 32
        producer.enqueue(message, dedup=dedup, group_id=group)
        assert sqs.sent[1]["MessageDeduplicationId"] != sent["MessageDeduplicationId"]
    else:
        assert sent["MessageDeduplicationId"] == dedup_id
    # the body holds exactly the fields the caller set, and is what the queue's consumer reads
    assert json.loads(sent["MessageBody"]) == message.model_dump(mode="json", exclude_unset=True)
    assert ADAPTERS[queue].validate_json(sent["MessageBody"]) == message


def test_ids_are_cut_to_sqs_128_characters(sqs: FakeSQS) -> None:
    org, ticket = "o" * 100, "t" * 100
    producer.enqueue(TaskApply(kind="apply", org_id=org, ticket_id=ticket, seq=1))
    producer.enqueue(MaintenanceJob(kind="sweep", org_id="x" * 200))
    task, sweep = sqs.sent
    assert task["MessageGroupId"] == f"{org}:{ticket}"[:128] and len(task["MessageGroupId"]) == 128
    assert task["MessageDeduplicationId"] == f"op-{ticket}-1"
    assert sweep["MessageGroupId"] == "x" * 128


@pytest.mark.parametrize(
    "message",
    [
        TaskCreate.model_construct(kind="create", org_id="", ticket_id="t"),  # org_id: min_length 1
        TaskApply.model_construct(kind="apply", org_id="o", ticket_id="t", seq="seven"),
        SyncCheck.model_construct(kind="check", org_id="o", tick="yesterday"),  # not a tick
        MaintenanceJob.model_construct(kind="sweep", org_id=None),  # org_id: a string
    ],
)
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_a_message_its_consumer_would_refuse_is_refused_before_sending(sqs: FakeSQS, message: BaseModel) -> None:
    with pytest.raises(ValidationError):
        producer.enqueue(message, dedup="d")
    with pytest.raises(ValidationError):
        producer.enqueue_batch([message])
    assert sqs.sent == [] and sqs.batches == []


def test_a_message_whose_ids_cannot_be_made_is_refused_before_sending(sqs: FakeSQS) -> None:
    with pytest.raises(ValueError, match="deduplication id"):
        producer.enqueue(TaskApply(kind="apply", org_id="o", ticket_id="t"))  # no seq, no caller's id
    with pytest.raises(ValueError, match="group_id"):
        producer.enqueue(SyncTick(kind="tick", tick=TICK))  # a tick's continuation stays in the tick's group
    with pytest.raises(ValueError, match="no queue"):
        producer.enqueue(SimpleNamespace(kind="delivery"))  # type: ignore[arg-type]
    assert sqs.sent == []


def test_a_batch_goes_ten_at_a_time_and_retries_what_sqs_failed_once(sqs: FakeSQS) -> None:
    jobs = [SyncCheck(kind="check", org_id=f"o{n:02}", tick=TICK) for n in range(23)]
    sqs.fail_ids = [{"3"}]  # the first call fails entry 3; the retry sends it alone
    assert producer.enqueue_batch(jobs) == 3
    sizes = [len(b["Entries"]) for b in sqs.batches]
    assert sizes == [10, 1, 10, 3]
    assert sqs.batches[1]["Entries"][0]["MessageGroupId"] == "o03"
    for batch in sqs.batches:
        assert batch["QueueUrl"] == URLS["sync_queue_url"]
        for entry in batch["Entries"]:
            org = json.loads(entry["MessageBody"])["org_id"]
            assert entry["MessageGroupId"] == org
            assert entry["MessageDeduplicationId"] == _sha("tick", TICK, org)


def test_a_batch_sqs_refuses_twice_raises(sqs: FakeSQS) -> None:
    sqs.fail_ids = [{"0", "4"}, {"4"}]
    with pytest.raises(producer.BatchRefused) as refused:
        producer.enqueue_batch([MaintenanceJob(kind="sweep", org_id=f"o{n}", tick=TICK) for n in range(5)])
    assert refused.value.failed == ["4"]


def test_a_batch_goes_to_one_queue(sqs: FakeSQS) -> None:
    with pytest.raises(ValueError, match="one queue"):
        producer.enqueue_batch([SyncRequest(kind="sync", org_id="o"), MaintenanceJob(kind="sweep", org_id="o")])
    assert sqs.batches == []


def test_the_webhook_functions_delivery_bodies_are_what_the_webhook_worker_reads(sqs: FakeSQS) -> None:
    hooks = [Hook(org_id=f"o{n}", workspace_id="w", webhook_id="h", secret="s") for n in range(12)]
    payload = {"event": "taskUpdated", "task_id": "abc", "webhook_id": "h", "history_items": []}
    bodies = [_message(hook, payload, 1_700_000_000_000)[0] for hook in hooks]
    for hook, body in zip(hooks, bodies, strict=True):
        delivery = webhook_message_adapter.validate_json(body)
        assert (delivery.org_id, delivery.payload) == (hook.org_id, payload)
    producer.enqueue_deliveries(bodies[:1])
    assert sqs.sent == [{"QueueUrl": URLS["webhook_queue_url"], "MessageBody": bodies[0]}]  # standard: no ids
    producer.enqueue_deliveries(bodies)
    assert [len(b["Entries"]) for b in sqs.batches] == [10, 2]
    assert [e["MessageBody"] for b in sqs.batches for e in b["Entries"]] == bodies


def test_delivery_batches_stay_within_sqs_size_limit(sqs: FakeSQS) -> None:
    big = "x" * (SQS_MAX_MESSAGE_BYTES // 2)
    producer.enqueue_deliveries([big, big, "y"])  # two halves and a byte exceed 1 MiB together
    assert [[e["MessageBody"] for e in b["Entries"]] for b in sqs.batches] == [[big, big]]
    assert [s["MessageBody"] for s in sqs.sent] == ["y"]


def test_a_copy_is_resent_as_outage_asks(sqs: FakeSQS) -> None:
    producer.resend("q.fifo", '{"a": 1}', group_id="o:t", dedup="m" * 200, delay_s=None)
    producer.resend("q", '{"a": 1}', group_id=None, dedup=None, delay_s=900)
    fifo, standard = sqs.sent
    assert fifo == {
        "QueueUrl": "q.fifo",
        "MessageBody": '{"a": 1}',
        "MessageGroupId": "o:t",
        "MessageDeduplicationId": "m" * 128,
    }
    assert standard == {"QueueUrl": "q", "MessageBody": '{"a": 1}', "DelaySeconds": 900}
