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
from bridge.queueing.handback import back_off

settings()
processor = BatchProcessor(event_type=EventType.SQS)
RETRY_S = (5, 15, 60, 300, 900, 1800, 3600)  # by receive count; then the DLQ (maxReceiveCount 8)


def record_handler(record: SQSRecord) -> None:
    event = json.loads(record.body)["detail"]  # EventBridge's envelope around the portal event
    try:
        outcome = delivery.deliver(event)
    except delivery.DeliveryFailed as failed:
        received = int(record.attributes.approximate_receive_count or 1)
        back_off(record.event_source_arn, record.receipt_handle, received, RETRY_S)
        metrics.add_metric(name="PortalDeliveryFailed", unit="Count", value=1)
        logger.warning("portal delivery failed", extra={"org_id": event.get("org_id"), "reason": str(failed)})
        raise
    metrics.add_metric(name=f"PortalDelivery_{outcome}", unit="Count", value=1)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
