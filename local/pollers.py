"""SQS -> Lambda event source mappings, locally.

Like Lambda's poller: batches of the queue's batch size, `ReportBatchItemFailures` honoured (only the failed
records stay for redelivery), a handler that raises or times out fails the whole batch, and a message is only
ever deleted after its handler reported success. moto moves messages to the DLQ after maxReceiveCount.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from infra.definitions import QueueDef
from local.runtime import LocalFunction

log = logging.getLogger("local.pollers")
MIN_SCALED_VISIBILITY_S = 5


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attributes = dict(message.get("Attributes", {}))
    message_attributes = {}
    for name, attr in (message.get("MessageAttributes") or {}).items():
        message_attributes[name] = {
            "stringValue": attr.get("StringValue"),
            "binaryValue": attr.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": attr.get("DataType", "String"),
        }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(result: Any, batch_ids: set[str]) -> set[str]:
    """The records to leave on the queue, by Lambda's rules for partial batch responses."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set(batch_ids)
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    ids = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in batch_ids:
            return set(batch_ids)  # a malformed response fails the whole batch
        ids.add(ident)
    return ids


class QueuePoller:
    def __init__(
        self, sqs: Any, queue: QueueDef, url: str, function: LocalFunction, region: str, time_scale: float = 1.0
    ) -> None:
        self.queue, self.url, self.function, self.region = queue, url, function, region
        self._sqs = sqs
        self._arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # Time-scaled for tests, but never shorter than a handler may still be running (AWS requires the
        # visibility timeout to cover the function's timeout): a message is not redelivered mid-run.
        floor_s = min(MIN_SCALED_VISIBILITY_S, function.definition.timeout_s)
        self._visibility = max(1, floor_s, round(queue.visibility_timeout_s * time_scale))
        self._stop = threading.Event()
        # Lambda runs up to `max_concurrency` batches of one queue at once (the event source mapping's limit)
        self._threads = [
            threading.Thread(target=self._run, name=f"poller:{queue.name}:{i}", daemon=True)
            for i in range(max(1, queue.max_concurrency))
        ]
        self.batches = 0

    def start(self) -> QueuePoller:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_s=1)
            except Exception:
                log.exception("poller for %s failed; retrying", self.queue.name)
                self._stop.wait(1)

    def poll_once(self, wait_s: int = 0) -> int:
        response = self._sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=self.queue.batch_size,
            WaitTimeSeconds=wait_s,
            VisibilityTimeout=self._visibility,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        self.batches += 1
        batch_ids = {m["MessageId"] for m in messages}
        event = {"Records": [sqs_record(m, self._arn, self.region) for m in messages]}
        try:
            failed = failed_ids(self.function.invoke(event), batch_ids)
        except Exception:
            log.exception("%s raised: the whole batch stays for redelivery", self.function.definition.name)
            failed = batch_ids
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        return len(messages)
