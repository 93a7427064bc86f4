"""Portal push worker: consumes portal-events (fed by an EventBridge rule on the bus) and POSTs each event,
signed, to the organisation's portal webhook URL. The batch's organisations are sent to at once under one
deadline (`delivery.deliver_batch`), so a portal that hangs delays only its own events: they are reported as
batch item failures and come back with a growing delay, the others' deliveries stand."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.events import delivery
from bridge.queueing.handback import back_off

settings()
RETRY_S = (5, 15, 60, 300, 900, 1800, 3600)  # by receive count; then the DLQ (maxReceiveCount 8)


def _events(records: list[dict[str, Any]]) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Exception]]:
    """Each record's portal event (the `detail` of EventBridge's envelope), or why its body is unreadable."""
    events: list[tuple[str, dict[str, Any]]] = []
    unreadable: dict[str, Exception] = {}
    for raw in records:
        try:
            event = json.loads(raw["body"])["detail"]
            if not (isinstance(event, dict) and event.get("org_id") and event.get("id")):
                raise ValueError("not a portal event")
            events.append((raw["messageId"], event))
        except (ValueError, KeyError, TypeError) as exc:  # poison: fails until the DLQ
            unreadable[raw["messageId"]] = exc
    return events, unreadable


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    events, unreadable = _events(event.get("Records", []))
    outcomes: dict[str, delivery.Outcome] = {
        **unreadable,
        **delivery.deliver_batch(events, remaining_s=lambda: context.get_remaining_time_in_millis() / 1000),
    }
    org_of = {record_id: e.get("org_id") for record_id, e in events}

    def record_handler(record: SQSRecord) -> None:
        outcome = outcomes[record.message_id]
        if isinstance(outcome, delivery.DeliveryFailed):
            received = int(record.attributes.approximate_receive_count or 1)
            back_off(record.event_source_arn, record.receipt_handle, received, RETRY_S)
            metrics.add_metric(name="PortalDeliveryFailed", unit="Count", value=1)
            logger.warning(
                "portal delivery failed", extra={"org_id": org_of.get(record.message_id), "reason": str(outcome)}
            )
            raise outcome
        if isinstance(outcome, Exception):
            raise outcome
        metrics.add_metric(name=f"PortalDelivery_{outcome}", unit="Count", value=1)

    # A processor per invocation: it keeps the batch's outcomes on itself, and its record handler is this batch's.
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
