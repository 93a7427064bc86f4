"""Webhook processor: consumes the webhook-events queue (verified ClickUp deliveries) into ticket links and
portal events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.clickup.errors import RateLimited, Transient
from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.queueing import batch, outage
from bridge.queueing.handback import hand_back
from bridge.queueing.messages import webhook_message_adapter
from bridge.webhooks import processing

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

settings()
# Standard queue, standard processor: deliveries carry their own order (ClickUp's history dates).
processor = batch.SqsBatch()  # Powertools' SQS batch processor, built at the first batch
_context: dict[str, Any] = {}


def record_handler(record: SQSRecord) -> None:
    body, retry = outage.unwrap(record.body)
    outage.hold_until_due(record, retry)
    message = webhook_message_adapter.validate_json(body)
    context = _context["lambda"]
    try:
        processing.handle(
            message,
            remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
            delivery_id=outage.origin_id(record, retry),
        )
    except RateLimited as held:  # a thin payload needed a read and the budget is spent: back at the reset
        hand_back(record.event_source_arn, record.receipt_handle, held.reset_at)
        raise
    except Transient as exc:  # a thin payload needed a read and ClickUp is unavailable: wait for it
        if not outage.reschedule(record, body, retry, outage.CLICKUP_OUTAGE, reason=f"clickup {exc.status}"):
            raise  # after the policy's bound: toward the DLQ (the reconciliation sweep repairs the change)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _context["lambda"] = context
    return processor.process(event, record_handler, context)
