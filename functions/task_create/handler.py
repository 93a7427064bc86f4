"""Task pipeline worker: consumes the task-create FIFO queue (one message group per ticket)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.clickup.errors import RateLimited, Transient
from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.queueing import batch, outage
from bridge.queueing.handback import hand_back
from bridge.queueing.messages import task_message_adapter
from bridge.tasks import worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

settings()
# FIFO processor: a failed record fails the rest of its group in the batch (a ticket's changes stay in order);
# other tickets' records are still processed.
processor = batch.SqsBatch(fifo=True, skip_group_on_error=True)  # Powertools' FIFO processor, built at the first batch
_context: dict[str, Any] = {}
# The queue's maxReceiveCount (infra/definitions.py, task-create): the last receive before the DLQ.
MAX_RECEIVE_COUNT = 20


def record_handler(record: SQSRecord) -> None:
    body, retry = outage.unwrap(record.body)
    outage.hold_until_due(record, retry)
    message = task_message_adapter.validate_json(body)
    context = _context["lambda"]
    try:
        worker.handle(message, remaining_s=lambda: context.get_remaining_time_in_millis() / 1000)
    except (RateLimited, worker.Busy) as held:
        hand_back(record.event_source_arn, record.receipt_handle, held.reset_at)
        raise
    except Transient as exc:
        # ClickUp is unavailable: wait for it however long the outage (never toward the DLQ)...
        if outage.reschedule(record, body, retry, outage.CLICKUP_OUTAGE, reason=f"clickup {exc.status}"):
            return
        # ...until the policy's bound: then the portal sees a failed creation it can retry.
        worker.give_up(message, "clickup_unavailable", "ClickUp stayed unavailable; retry the creation")
        return
    except Exception:
        # A poison message: on its last receive the creation ends visibly (failed, an event, the retry route).
        if int(record.attributes.approximate_receive_count or 1) >= MAX_RECEIVE_COUNT:
            worker.give_up(message, "processing_failed", "the bridge could not process this ticket; retry it")
        raise


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _context["lambda"] = context
    return processor.process(event, record_handler, context)
