"""Space sync worker: consumes the space-sync FIFO queue (grouped by organisation)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.clickup.errors import RateLimited, Transient
from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.queueing import batch, outage
from bridge.queueing.fanout import NoTimeLeft
from bridge.queueing.handback import hand_back
from bridge.queueing.messages import sync_message_adapter
from bridge.sync import worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

settings()
# Not the FIFO processor: one organisation's spent budget must not fail the other organisations' records
# in the batch (each organisation is its own message group; order within a sync group does not matter).
processor = batch.SqsBatch()  # Powertools' SQS batch processor, built at the first batch
_context: dict[str, Any] = {}


def record_handler(record: SQSRecord) -> None:
    body, retry = outage.unwrap(record.body)
    outage.hold_until_due(record, retry)
    message = sync_message_adapter.validate_json(body)
    context = _context["lambda"]
    try:
        worker.handle(
            message,
            remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
            job_id=record.message_id,
            group_id=record.attributes.message_group_id,
            sent_timestamp_ms=record.attributes.sent_timestamp,
        )
    except RateLimited as limited:
        hand_back(record.event_source_arn, record.receipt_handle, limited.reset_at)
        raise
    except NoTimeLeft:  # a tick's page that found the invocation nearly over: run it again at once
        hand_back(record.event_source_arn, record.receipt_handle, time.time())
        raise
    except Transient as exc:  # ClickUp is unavailable: resumed from the checkpoint when it is back
        if not outage.reschedule(record, body, retry, outage.CLICKUP_OUTAGE, reason=f"clickup {exc.status}"):
            raise  # after the policy's bound: toward the DLQ (the space-sync-tick queues a fresh sync anyway)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _context["lambda"] = context
    return processor.process(event, record_handler, context)
