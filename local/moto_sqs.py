"""Two of moto's SQS costs are paid on every SendMessage and grow with the queue:

- it rebuilds the queue's whole attribute map several times per send, converting each attribute name from CamelCase
  with regular expressions every time (measured: a FIFO send p50 17-22 ms, most of it in that conversion);
- each rebuild counts the delayed and in-flight messages, asking every message for the time through a chain of
  naive/aware datetime conversions (measured: a send 13.9 ms with 500 messages queued, 3.8 ms with `time.time()`).

`install()` memoizes the conversion (a pure function of the name) and reads the clock directly (the same instant in
the same unit: ms since the epoch); behaviour is unchanged.

It also makes the message size limit as strict as SQS's: SQS counts the body's UTF-8 bytes and every message
attribute's name, type and value against the queue's MaximumMessageSize (1 MiB = 1,048,576 bytes by default;
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html and the
SendMessage API reference: "all parts of the message attribute, including name, type, and value, are included in
the message size restriction"), and a batch's messages together against 1 MiB. moto counted the body's characters
only, so a non-ASCII body of up to 4 MiB, or any size of attributes, passed locally and failed on AWS.

It also makes one of moto's FIFO rules hold under concurrency. SQS: "When you receive a message with a message group
ID, no more messages for the same message group ID are returned unless you delete the message or it becomes
visible" (SQS developer guide, FIFO queue delivery logic). moto decides which groups are in flight from a snapshot
taken when ReceiveMessage starts, and a long poll keeps that snapshot while it waits: a poller waiting since before
another one received group G's first message was then handed G's second message (seen: one ticket's changes
applied twice at once, with five concurrent batches). `install()` makes each receive attempt atomic with a fresh
snapshot (a lock around moto's receive without its wait) and does the long poll's waiting outside the lock.
"""

from __future__ import annotations

import datetime
import functools
import threading
import time
from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.sqs import models

    models.camelcase_to_underscores = functools.lru_cache(maxsize=512)(models.camelcase_to_underscores)
    datetime_millis = models.unix_time_millis

    def unix_time_millis(dt: datetime.datetime | None = None) -> float:
        return time.time() * 1000.0 if dt is None else datetime_millis(dt)

    models.unix_time_millis = unix_time_millis
    _strict_sizes(models)
    _atomic_receives(models.SQSBackend)
    _installed = True


def message_bytes(body: str, attributes: dict | None) -> int:
    """A message's size as SQS counts it: body UTF-8 bytes + each attribute's name, data type and value."""
    size = len(body.encode("utf-8", "surrogatepass"))
    for name, attribute in (attributes or {}).items():
        value = attribute.get("StringValue", attribute.get("string_value"))
        raw = attribute.get("BinaryValue", attribute.get("binary_value"))
        size += len(name.encode("utf-8")) + len(str(attribute.get("DataType", attribute.get("data_type", ""))))
        if isinstance(raw, str):  # the JSON protocol carries binary values in base64
            import base64

            raw = base64.b64decode(raw)
        size += len(str(value).encode("utf-8")) if value is not None else len(raw or b"")
    return size


def _strict_sizes(models: Any) -> None:
    backend = models.SQSBackend
    send, send_batch = backend.send_message, backend.send_message_batch
    invalid, too_long = models.InvalidParameterValue, models.BatchRequestTooLong

    def send_message(
        self: Any, queue_name: str, message_body: str, message_attributes: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        limit = int(self.get_queue(queue_name).maximum_message_size)
        if message_bytes(message_body, message_attributes) > limit:
            raise invalid(f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.")
        return send(self, queue_name, message_body, message_attributes, *args, **kwargs)

    def send_message_batch(self: Any, queue_name: str, entries: dict[str, Any]) -> Any:
        total = sum(message_bytes(e["MessageBody"], e.get("MessageAttributes")) for e in entries.values())
        if total > models.MAXIMUM_MESSAGE_LENGTH:
            raise too_long(total)
        return send_batch(self, queue_name, entries)

    backend.send_message = send_message
    backend.send_message_batch = send_message_batch


def _atomic_receives(backend_class: Any) -> None:
    receive = backend_class.receive_message
    lock = threading.Lock()

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        polling_end = time.monotonic() + wait_seconds_timeout
        while True:
            with lock:  # which groups are in flight is read and updated in one step
                result: list[Any] = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            remaining = polling_end - time.monotonic()
            if result or remaining <= 0:
                return result
            queue = self.get_queue(queue_name)
            if queue.messages:  # visible, but in a group in flight: look again shortly
                time.sleep(min(remaining, 0.02))
            else:  # nothing visible: woken by the next send
                queue.wait_for_messages(min(remaining, 0.25))

    backend_class.receive_message = receive_message
