"""A ClickUp outage longer than the longest back-off chain (issue 16, item 6), time-scaled like the whole local
stack (tests/conftest.py TIME_SCALE): every accepted ticket, change and comment is applied exactly once after
recovery, nothing reaches a DLQ, and work given up on (an outage outlasting its bound, a stuck link) ends in a
state the portal sees and can retry."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from bridge.queueing.outage import CLICKUP_OUTAGE, RETRY_KEY
from tests.conftest import TIME_SCALE, send, wait_for
from tests.integration.test_task_pipeline import _feed, _ready, _state, _tasks, _ticket

# Longer than the whole scaled back-off chain (2 s .. 15 min: ~10 s here), so records wait at the capped delay.
OUTAGE_S = max(25.0, CLICKUP_OUTAGE.longest_chain_s * TIME_SCALE * 2)


@pytest.fixture
def outage(clickup: httpx.Client, workspace: dict):
    """Every ClickUp request with this workspace's token answers 503 (from `begin()` to the end of the test).

    The time-scaled back-offs try ClickUp ~200x as often as on AWS; the token gets the Enterprise budget so the
    tries of a scaled outage do not spend the organisation's window (on AWS a record tries once per 15 min)."""
    clickup.put("/_emulator/limits", json={"token_limits": {workspace["token"]: 10000}}).raise_for_status()

    def begin() -> None:
        rule = {"action": "status", "status": 503, "path": ".*", "token": workspace["token"]}
        clickup.post("/_emulator/faults", json=rule).raise_for_status()

    yield begin
    clickup.delete("/_emulator/faults")


def _dlq_bodies(stack, queue: str) -> list[str]:
    sqs = stack.aws.client("sqs")
    bodies = []
    for _ in range(3):
        got = sqs.receive_message(
            QueueUrl=stack.provisioned.dlq_urls[queue], MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        bodies += [m["Body"] for m in got]
    return bodies


def _refused(clickup: httpx.Client, token_id: str) -> int:
    requests = clickup.get("/_emulator/requests", params={"since": 0}).json()["requests"]
    return sum(1 for r in requests if r.get("token_id") == token_id and r.get("status") == 503)


@pytest.fixture
def receives(stack, monkeypatch):
    """Every task-create record the worker is given: (ticket id, kind, ApproximateReceiveCount)."""
    seen: list[tuple[str, str, int]] = []
    function = stack.functions["task_create"]
    original = function.invoke

    def spy(event):
        for record in event["Records"]:
            body = json.loads(record["body"])
            seen.append((body.get("ticket_id"), body.get("kind"), int(record["attributes"]["ApproximateReceiveCount"])))
        return original(event)

    monkeypatch.setattr(function, "invoke", spy)
    return seen


def test_an_outage_longer_than_the_back_off_chain_loses_nothing(
    api, auth, workspace, clickup, outage, stack, org_id, receives
) -> None:
    _ready(api, auth, workspace)
    existing = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{existing}/clickup-task", headers=auth(), json=_ticket())
    _state(api, auth, existing, "created")

    outage()
    started = time.monotonic()
    tickets = [str(uuid.uuid4()) for _ in range(4)]
    for ticket_id in tickets:
        answer = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
        assert answer.status_code == 202, answer.text
    assert (
        api.patch(f"/api/v1/tickets/{existing}/clickup-task", headers=auth(), json={"priority": "urgent"}).status_code
        == 202
    )
    text = f"outage comment {uuid.uuid4().hex[:6]}"
    assert (
        api.post(f"/api/v1/tickets/{existing}/clickup-task/comments", headers=auth(), json={"text": text}).status_code
        == 202
    )
    # a hierarchy sync waits for ClickUp too
    assert api.post("/api/v1/clickup/sync", headers=auth()).status_code == 202

    while time.monotonic() - started < OUTAGE_S:
        for ticket_id in tickets:  # accepted work never turns failed while ClickUp is merely down
            link = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
            assert link["state"] in ("queued", "creating"), link
        time.sleep(1)
    # ClickUp was asked again and again during the outage (more tries than SQS's maxReceiveCount of 20 would
    # have allowed one record before the DLQ), and no record was dead-lettered.
    assert _refused(clickup, workspace["token_id"]) > 20
    # An outage spends none of a record's receives toward the DLQ (maxReceiveCount 20): each try is a fresh copy,
    # received at most twice (a FIFO copy's first receive may hold it until due). Before, each try was a receive.
    for ticket_id in tickets:
        counts = [n for t, kind, n in receives if t == ticket_id and kind == "create"]
        assert len(counts) >= 4 and max(counts) <= 2, (ticket_id, counts)
    for queue in ("task-create", "space-sync"):
        assert not [b for b in _dlq_bodies(stack, queue) if org_id in b], queue

    clickup.delete("/_emulator/faults")  # ClickUp is back
    for ticket_id in tickets:
        _state(api, auth, ticket_id, "created", timeout_s=30)
        assert len(_tasks(clickup, ticket_id)) == 1
    changed = wait_for(
        lambda: (
            (body := api.get(f"/api/v1/tickets/{existing}/clickup-task", headers=auth()).json())["pending_changes"] == 0
            and body
        ),
        timeout_s=30,
    )
    assert changed["priority"] == "urgent"
    task_id = changed["task_id"]
    assert _tasks(clickup, existing)[0]["priority"]["id"] == "1"
    comments = clickup.get(f"/api/v2/task/{task_id}/comment", headers={"Authorization": workspace["token"]}).json()
    assert [c["comment_text"] for c in comments["comments"]].count(text) == 1
    feed = _feed(stack, org_id)
    assert "clickup.task.failed" not in feed and "clickup.task.change_failed" not in feed
    for queue in ("task-create", "space-sync"):
        assert not [b for b in _dlq_bodies(stack, queue) if org_id in b], queue


def test_an_outage_outlasting_its_bound_fails_visibly_and_the_retry_route_creates_once(
    api, auth, workspace, clickup, outage, stack, org_id
) -> None:
    _ready(api, auth, workspace)
    outage()
    ticket_id = str(uuid.uuid4())
    assert api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket()).status_code == 202
    # The same creation as it would be re-sent after 15 days of outage (first failure beyond the 14-day bound).
    long_ago = int(time.time() * 1000) - 15 * 86400 * 1000
    body = {
        "kind": "create",
        "org_id": org_id,
        "ticket_id": ticket_id,
        "generation": 1,
        RETRY_KEY: {"origin_id": "m-1", "attempt": 900, "first_failure_ms": long_ago, "not_before_ms": 0},
    }
    send(stack, "task-create", body, MessageGroupId=f"{org_id}:{ticket_id}", MessageDeduplicationId=uuid.uuid4().hex)
    failed = _state(api, auth, ticket_id, "failed", timeout_s=30)
    assert failed["error"]["code"] == "clickup_unavailable"
    wait_for(lambda: "clickup.task.failed" in _feed(stack, org_id))
    clickup.delete("/_emulator/faults")
    retried = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task/retry", headers=auth())
    assert retried.status_code == 202, retried.text
    _state(api, auth, ticket_id, "created", timeout_s=30)
    time.sleep(1)  # the first (still waiting) record may run too: it must find the task, not create another
    assert len(_tasks(clickup, ticket_id)) == 1


def test_a_stuck_creation_can_be_retried(api, auth, workspace, clickup, stack, org_id) -> None:
    """A link left `creating` with no live lease (its message lost to an operator's purge, say) is retryable."""
    from bridge.repositories import ticket_links

    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket())
    link = _state(api, auth, ticket_id, "created")
    row = ticket_links.get(org_id, ticket_id)
    assert row is not None
    # as the worker leaves a link whose process died after recording its attempt, the task already created
    row.update(
        state="creating",
        attempt={"id": "x", "list_id": link["list_id"], "started_ms": int(time.time() * 1000) - 1000, "lease_until": 0},
        task_id=None,
    )
    assert ticket_links.save(row)
    assert api.post(f"/api/v1/tickets/{ticket_id}/clickup-task/retry", headers=auth()).status_code == 409  # not yet
    time.sleep(15 * 60 * TIME_SCALE + 1.5)
    retried = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task/retry", headers=auth())
    assert retried.status_code == 202, retried.text
    created = _state(api, auth, ticket_id, "created", timeout_s=30)
    assert created["task_id"] == link["task_id"] and len(_tasks(clickup, ticket_id)) == 1  # adopted, not twice
    assert json.dumps(created)


def test_a_poison_creation_ends_visibly_on_its_last_receive(
    api, auth, workspace, clickup, stack, org_id, monkeypatch
) -> None:
    """A creation whose handler keeps raising (not an outage) becomes `failed` / `processing_failed` with its
    event on its last receive before the DLQ, so the portal sees it and the retry route creates the task."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from local.pollers import sqs_record

    _ready(api, auth, workspace)

    def broken(work):  # a defect that raises for this organisation's tickets, whatever ClickUp says
        raise RuntimeError("a defect")

    # in each of task_create's execution environments (each has its own `bridge`, local/runtime.py)
    undo = stack.functions["task_create"].patch("bridge.tasks.worker", "create", lambda original: broken)
    ticket_id = str(uuid.uuid4())
    assert api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=_ticket()).status_code == 202
    body = {"kind": "create", "org_id": org_id, "ticket_id": ticket_id, "generation": 1}
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "last-receive",
        "Body": json.dumps(body),
        "Attributes": {"ApproximateReceiveCount": "20", "MessageGroupId": f"{org_id}:{ticket_id}"},
    }
    arn = stack.pollers["task-create"]._arn
    # The record fails (then the DLQ, as before): a batch whose every record failed is a function error
    # (Powertools' BatchProcessingError), so SQS keeps the record, as it would with batchItemFailures.
    with pytest.raises(BatchProcessingError):
        stack.functions["task_create"].invoke({"Records": [sqs_record(message, arn, "eu-west-1")]})
    link = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
    assert link["state"] == "failed" and link["error"]["code"] == "processing_failed"
    wait_for(lambda: "clickup.task.failed" in _feed(stack, org_id))
    undo()  # the defect fixed
    assert api.post(f"/api/v1/tickets/{ticket_id}/clickup-task/retry", headers=auth()).status_code == 202
    _state(api, auth, ticket_id, "created", timeout_s=30)
    assert len(_tasks(clickup, ticket_id)) == 1
