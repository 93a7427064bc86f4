"""Portal push worker: consumes portal-events (fed by an EventBridge rule on the bus) and POSTs each event,
signed, to the organisation's portal webhook URL."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.events import delivery
from bridge.queueing import outage

settings()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    body, retry = outage.unwrap(record.body)
    outage.hold_until_due(record, retry)
    event = json.loads(body)["detail"]  # EventBridge's envelope around the portal event
    try:
        outcome = delivery.deliver(event)
    except delivery.DeliveryFailed as failed:
        metrics.add_metric(name="PortalDeliveryFailed", unit="Count", value=1)
        logger.warning("portal delivery failed", extra={"org_id": event.get("org_id"), "reason": str(failed)})
        # The portal is down: pushed again after 5 s .. 1 h for 3 days, then the DLQ (the feed keeps it 30 days)
        if not outage.reschedule(record, body, retry, outage.PORTAL_OUTAGE, reason="portal"):
            raise
        return
    metrics.add_metric(name=f"PortalDelivery_{outcome}", unit="Count", value=1)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
