"""The outage re-send's pure parts: the retry state travels beside the message without changing it, the policies'
bounds, and the task worker's idea of the queue's maxReceiveCount (its last receive before the DLQ)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bridge.queueing.messages import task_message_adapter
from bridge.queueing.outage import CLICKUP_OUTAGE, PORTAL_OUTAGE, RETRY_KEY, unwrap
from infra import definitions as d

ROOT = Path(__file__).resolve().parents[2]


def test_a_retry_state_is_split_off_and_the_message_reads_as_sent() -> None:
    message = {"kind": "create", "org_id": "o", "ticket_id": "t", "generation": 2}
    state = {"origin_id": "m-1", "attempt": 3, "first_failure_ms": 1, "not_before_ms": 2}
    body, retry = unwrap(json.dumps({**message, RETRY_KEY: state}))
    assert retry is not None and retry.attempt == 3 and retry.origin_id == "m-1"
    assert task_message_adapter.validate_json(body).model_dump() == message
    plain = json.dumps(message)
    assert unwrap(plain) == (plain, None)
    assert unwrap("not json " + RETRY_KEY) == ("not json " + RETRY_KEY, None)
    body, retry = unwrap(json.dumps({**message, RETRY_KEY: {"attempt": "x"}}))  # a broken state: a first try
    assert retry is None and json.loads(body) == message


def test_the_policies_cap_their_delays_within_sqs_and_bound_the_wait() -> None:
    assert max(CLICKUP_OUTAGE.delays_s) == 900  # SendMessage DelaySeconds' maximum: one standard-queue hop
    assert CLICKUP_OUTAGE.give_up_after_s == 14 * 86400  # SQS's longest retention
    assert PORTAL_OUTAGE.give_up_after_s == 3 * 86400
    assert list(CLICKUP_OUTAGE.delays_s) == sorted(CLICKUP_OUTAGE.delays_s)


def test_the_task_worker_knows_the_queues_max_receive_count() -> None:
    text = (ROOT / "functions/task_create/handler.py").read_text()
    declared = int(re.search(r"^MAX_RECEIVE_COUNT = (\d+)", text, re.M).group(1))
    assert declared == d.queue("task-create").max_receive_count
