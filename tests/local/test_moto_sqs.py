"""The local SQS keeps FIFO's delivery rule under concurrent long polls: "When you receive a message with a
message group ID, no more messages for the same message group ID are returned unless you delete the message or it
becomes visible" (SQS developer guide, FIFO delivery logic). moto's backend is driven directly (no boto3 mock)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from moto.sqs.models import sqs_backends

from local import moto_sqs


def test_a_waiting_poller_gets_no_message_of_a_group_in_flight() -> None:
    moto_sqs.install()
    backend: Any = sqs_backends["000000000042"]["eu-west-1"]
    name = f"fifo-{uuid.uuid4().hex[:8]}.fifo"
    backend.create_queue(name, FifoQueue="true", ContentBasedDeduplication="true")
    received: dict[str, list[str]] = {}

    def poll(poller: str) -> None:
        messages = backend.receive_message(name, 10, 2, 30)
        received[poller] = [m.body for m in messages]

    # two pollers wait on the empty queue (moto took its snapshot of the groups in flight then)
    pollers = [threading.Thread(target=poll, args=(p,)) for p in ("a", "b")]
    for p in pollers:
        p.start()
    time.sleep(0.3)
    backend.send_message(name, "first", group_id="g")  # one of them receives it: g is in flight
    time.sleep(0.3)
    backend.send_message(name, "second", group_id="g")  # the other must not get it while "first" is
    for p in pollers:
        p.join()
    assert sorted(received.values()) == [[], ["first"]]
