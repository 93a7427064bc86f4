"""A genuine ClickUp delivery larger than an SQS message (issue 16 failure 5): never a 5xx. What processing reads
is queued (history items of the fields the bridge mirrors); only a delivery whose mirrored content itself exceeds
1 MiB is refused, with 413 `payload_too_large`. The local SQS counts sizes as SQS does."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from bridge.webhooks.ingest import SQS_MAX_MESSAGE_BYTES
from tests.conftest import wait_for
from tests.integration.test_webhooks import _created_task, _events, _hook, _ready, _sign


def _padded(payload: dict, size: int) -> bytes:
    """`payload` with its first history item's `after` padded so the body is exactly `size` bytes."""
    raw = json.dumps(payload).encode()
    payload["history_items"][0]["after"] += "x" * (size - len(raw))
    raw = json.dumps(payload).encode()
    assert len(raw) == size
    return raw


def test_a_signed_delivery_around_the_sqs_limit_is_queued_with_what_processing_reads(
    api, auth, clickup, workspace
) -> None:
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    task_id = _created_task(api, auth, clickup, ticket_id)["task_id"]
    hook = _hook(clickup, workspace)
    user = {"id": workspace["user"]["id"], "username": "someone"}
    before = "new"
    sizes = [
        SQS_MAX_MESSAGE_BYTES - 2048,
        SQS_MAX_MESSAGE_BYTES - 1,
        SQS_MAX_MESSAGE_BYTES + 1,
        2 * SQS_MAX_MESSAGE_BYTES,
    ]
    for n, (size, after) in enumerate(zip(sizes, ["doing", "done", "doing", "done"], strict=True)):
        now = str(int(time.time() * 1000) + n)
        payload = {
            "event": "taskUpdated",
            "task_id": task_id,
            "webhook_id": hook["id"],
            "history_items": [
                {
                    "id": f"big-{uuid.uuid4().hex}",
                    "field": "content",
                    "date": now,
                    "before": "",
                    "after": "",
                    "user": user,
                },
                {
                    "id": f"st-{uuid.uuid4().hex}",
                    "field": "status",
                    "date": now,
                    "before": {"status": before, "type": "open"},
                    "after": {"status": after, "type": "custom"},
                    "user": user,
                },
            ],
        }
        raw = _padded(payload, size)
        answer = api.post("/webhooks/clickup", content=raw, headers={"X-Signature": _sign(hook["secret"], raw)})
        assert answer.status_code == 200, (size, answer.text[:300])
        assert answer.json() == {"status": "queued"}
        wait_for(
            lambda a=after: api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["status"] == a,
            timeout_s=30,
        )
        before = after
    changed = _events(api, auth, ticket_id, "clickup.task.status_changed")
    assert [e["data"]["status"] for e in changed] == ["doing", "done", "doing", "done"], "each change reported once"


@pytest.mark.parametrize("size", [SQS_MAX_MESSAGE_BYTES + 1, 3 * SQS_MAX_MESSAGE_BYTES])
def test_a_signed_delivery_whose_mirrored_content_exceeds_the_queue_is_a_413(
    api, auth, clickup, workspace, size
) -> None:
    """A comment of over 1 MiB: the content the bridge would mirror cannot be queued; ClickUp is told so with a
    4xx and a stable code (never a 5xx), and nothing is queued."""
    _ready(api, auth, workspace)
    hook = _hook(clickup, workspace)
    payload = {
        "event": "taskCommentPosted",
        "task_id": "abc123",
        "webhook_id": hook["id"],
        "history_items": [
            {"id": "c1", "field": "comment", "date": "1", "after": "", "comment": {"id": "c1", "text_content": ""}}
        ],
    }
    raw = json.dumps(payload).encode()
    payload["history_items"][0]["comment"]["text_content"] = "y" * (size - len(raw))
    raw = json.dumps(payload).encode()
    assert len(raw) == size
    answer = api.post("/webhooks/clickup", content=raw, headers={"X-Signature": _sign(hook["secret"], raw)})
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["error"]["code"] == "payload_too_large"
    wrong = api.post("/webhooks/clickup", content=raw, headers={"X-Signature": _sign("not-the-secret", raw)})
    assert wrong.status_code == 401, "the signature is checked first: an unsigned body learns nothing about sizes"


def test_the_local_sqs_counts_message_sizes_as_sqs_does(stack) -> None:
    """SQS counts the body's UTF-8 bytes and every message attribute against 1 MiB; moto counted characters."""
    sqs = stack.aws.client("sqs")
    url = sqs.create_queue(QueueName=f"size-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    try:
        sqs.send_message(QueueUrl=url, MessageBody="a" * SQS_MAX_MESSAGE_BYTES)  # exactly 1 MiB: accepted
        refused = {
            "one byte over": {"MessageBody": "a" * (SQS_MAX_MESSAGE_BYTES + 1)},
            "non-ASCII over in bytes, under in characters": {"MessageBody": "é" * (SQS_MAX_MESSAGE_BYTES // 2 + 1)},
            "attributes over": {
                "MessageBody": "a" * (SQS_MAX_MESSAGE_BYTES - 10),
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v" * 20}},
            },
        }
        for name, kwargs in refused.items():
            with pytest.raises(Exception) as caught:
                sqs.send_message(QueueUrl=url, **kwargs)
            assert "InvalidParameterValue" in str(caught.value) or "shorter than" in str(caught.value), name
        batch = [{"Id": str(i), "MessageBody": "é" * 200_000} for i in range(3)]  # 1.2 MB, 600,000 characters
        with pytest.raises(Exception) as caught:
            sqs.send_message_batch(QueueUrl=url, Entries=batch)
        assert "BatchRequestTooLong" in str(caught.value) or "cannot be longer" in str(caught.value)
    finally:
        sqs.delete_queue(QueueUrl=url)
