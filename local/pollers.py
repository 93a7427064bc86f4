"""SQS -> Lambda event source mappings, locally, from the mapping the template declares
(`infra.definitions.event_source_mapping`, compared with the template by tests/infra/test_local_matches_template.py).

Like Lambda's poller ("Using Lambda with Amazon SQS", AWS Lambda developer guide): a mapping Lambda would refuse
is refused (`EventSourceMappingRefused`: a queue visibility timeout shorter than the function's timeout, a batch
size or window out of range, a maximum concurrency outside 2-1000); batches of the mapping's batch size, gathered
for up to its batching window; a partial batch response honoured only when the mapping has
`ReportBatchItemFailures` (else the response is ignored and the whole batch succeeds); a handler that raises or
times out fails the whole batch; at most `MaximumConcurrency` batches at once (unset: Lambda starts with five
concurrent batches, so five here); a message is only ever deleted after its handler reported success. FIFO order
within a message group is SQS's (no message of a group is received while an earlier one is in flight); moto
moves messages to the DLQ after maxReceiveCount.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from infra.definitions import EventSourceMappingDef, FunctionDef, QueueDef, event_source_mapping
from local.runtime import LocalFunction

log = logging.getLogger("local.pollers")
MIN_SCALED_VISIBILITY_S = 5
# Without MaximumConcurrency, Lambda's SQS pollers start with five concurrent batches and scale up from there.
UNSET_MAXIMUM_CONCURRENCY = 5


class EventSourceMappingRefused(Exception):
    """Lambda's CreateEventSourceMapping would refuse this mapping (InvalidParameterValueException)."""


def check_event_source_mapping(
    mapping: EventSourceMappingDef, queue_attributes: dict[str, str], function: FunctionDef
) -> None:
    """Raise `EventSourceMappingRefused` for what Lambda refuses on an SQS event source (CreateEventSourceMapping,
    "Using Lambda with Amazon SQS": batch size 1-10,000, at most 10 for FIFO and above 10 only with a batching
    window; a window of 0-300 s, none for FIFO; MaximumConcurrency 2-1,000; and the queue's visibility timeout at
    least the function's timeout, "Queue visibility timeout: X seconds is less than Function timeout: Y seconds").
    """
    fifo = queue_attributes.get("FifoQueue", "false") == "true"
    visibility = int(queue_attributes.get("VisibilityTimeout", "30"))
    if visibility < function.timeout_s:
        raise EventSourceMappingRefused(
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{function.timeout_s} seconds ({mapping.queue} -> {function.name})"
        )
    if not 1 <= mapping.batch_size <= (10 if fifo else 10_000):
        raise EventSourceMappingRefused(f"{mapping.queue}: batch size {mapping.batch_size} out of range")
    if mapping.batch_size > 10 and mapping.maximum_batching_window_s < 1:
        raise EventSourceMappingRefused(
            f"{mapping.queue}: a batch size above 10 needs a maximum batching window of at least 1 second"
        )
    if not 0 <= mapping.maximum_batching_window_s <= 300 or (fifo and mapping.maximum_batching_window_s):
        raise EventSourceMappingRefused(f"{mapping.queue}: batching window not allowed here")
    if mapping.maximum_concurrency is not None and not 2 <= mapping.maximum_concurrency <= 1000:
        raise EventSourceMappingRefused(f"{mapping.queue}: maximum concurrency {mapping.maximum_concurrency}")


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


def failed_ids(result: Any, batch_ids: set[str], report_batch_item_failures: bool = True) -> set[str]:
    """The records to leave on the queue, by Lambda's rules for partial batch responses (a mapping without
    `ReportBatchItemFailures` ignores the response: the invocation succeeded, the whole batch is done)."""
    if result is None or not report_batch_item_failures:
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
        self,
        sqs: Any,
        queue: QueueDef,
        url: str,
        function: LocalFunction,
        region: str,
        time_scale: float = 1.0,
        mapping: EventSourceMappingDef | None = None,
    ) -> None:
        self.queue, self.url, self.function, self.region = queue, url, function, region
        self.mapping = mapping or event_source_mapping(queue)
        self._sqs = sqs
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        check_event_source_mapping(self.mapping, attributes, function.definition)
        self._arn = attributes["QueueArn"]
        # Time-scaled for tests, but never shorter than a handler may still be running (AWS requires the
        # visibility timeout to cover the function's timeout): a message is not redelivered mid-run.
        floor_s = min(MIN_SCALED_VISIBILITY_S, function.definition.timeout_s)
        self._visibility = max(1, floor_s, round(queue.visibility_timeout_s * time_scale))
        self._stop = threading.Event()
        # Lambda runs up to MaximumConcurrency batches of one queue at once (the event source mapping's limit)
        self.concurrency = self.mapping.maximum_concurrency or UNSET_MAXIMUM_CONCURRENCY
        self._threads = [
            threading.Thread(target=self._run, name=f"poller:{queue.name}:{i}", daemon=True)
            for i in range(self.concurrency)
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

    def _receive(self, wait_s: int) -> tuple[list[dict[str, Any]], int]:
        """One batch: up to the batch size, gathered for up to the batching window (10 a receive, SQS's most), and
        the shortest visibility timeout its messages were received with (seconds)."""
        window_end = time.monotonic() + self.mapping.maximum_batching_window_s
        messages: list[dict[str, Any]] = []
        shortest = self._visibility
        while True:
            visibility = self._visibility
            response = self._sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(10, self.mapping.batch_size - len(messages)),
                WaitTimeSeconds=wait_s if not messages else 0,
                VisibilityTimeout=visibility,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            if response.get("Messages"):
                shortest = min(shortest, visibility)
            messages += response.get("Messages", [])
            if len(messages) >= self.mapping.batch_size or time.monotonic() >= window_end:
                return messages, shortest
            if not response.get("Messages"):
                self._stop.wait(min(0.2, max(0.0, window_end - time.monotonic())))

    def _heartbeat(self, messages: list[dict[str, Any]], visibility: int) -> threading.Event:
        """Keep a batch invisible while its invocation runs, when the visibility timeout is time-scaled below the
        function's timeout. On AWS the visibility timeout is at least the function's timeout (the mapping is
        refused otherwise), so a message is never received again while an invocation still works on it; the
        scaled timeout (fast redelivery after a failure, for the tests) must not break that: while the
        invocation runs, the batch's visibility is extended every half period. `visibility`: the timeout the
        messages were received with (not the poller's current one, which a test may have changed meanwhile).
        Returns the event that stops it."""
        stop = threading.Event()
        if visibility >= self.function.definition.timeout_s:
            return stop

        def extend() -> None:
            while not stop.wait(visibility / 2):
                for start in range(0, len(messages), 10):
                    entries = [
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self._visibility}
                        for i, m in enumerate(messages[start : start + 10])
                    ]
                    try:
                        self._sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)
                    except Exception:  # best effort: the next period tries again
                        log.debug("visibility heartbeat failed", exc_info=True)

        threading.Thread(target=extend, name=f"heartbeat:{self.queue.name}", daemon=True).start()
        return stop

    def poll_once(self, wait_s: int = 0) -> int:
        messages, visibility = self._receive(wait_s)
        if not messages:
            return 0
        self.batches += 1
        batch_ids = {m["MessageId"] for m in messages}
        event = {"Records": [sqs_record(m, self._arn, self.region) for m in messages]}
        stop_heartbeat = self._heartbeat(messages, visibility)
        try:
            result = self.function.invoke(event)
            failed = failed_ids(result, batch_ids, self.mapping.report_batch_item_failures)
        except Exception:
            log.exception("%s raised: the whole batch stays for redelivery", self.function.definition.name)
            failed = batch_ids
        finally:
            stop_heartbeat.set()
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        return len(messages)
