"""Webhook processor: consumes the webhook-events queue (verified ClickUp deliveries) into ticket links and
portal events."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.clickup.errors import RateLimited, Transient
from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.queueing.handback import back_off, hand_back
from bridge.queueing.messages import webhook_message_adapter
from bridge.webhooks import processing

settings()
# Standard queue, standard processor: deliveries carry their own order (ClickUp's history dates).
processor = BatchProcessor(event_type=EventType.SQS)
_context: dict[str, Any] = {}
BACKOFF_S = (2, 5, 15, 30, 60)


def record_handler(record: SQSRecord) -> None:
    message = webhook_message_adapter.validate_json(record.body)
    context = _context["lambda"]
    try:
        processing.handle(
            message,
            remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
            delivery_id=record.message_id,
        )
    except RateLimited as held:  # a thin payload needed a read and the budget is spent: back at the reset
        hand_back(record.event_source_arn, record.receipt_handle, held.reset_at)
        raise
    except Transient:
        received = int(record.attributes.approximate_receive_count or 1)
        back_off(record.event_source_arn, record.receipt_handle, received, BACKOFF_S)
        raise


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _context["lambda"] = context
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
