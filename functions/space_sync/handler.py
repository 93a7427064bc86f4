"""Space sync worker: consumes the space-sync FIFO queue (grouped by organisation)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.queueing.messages import sync_message_adapter
from bridge.sync import worker

settings()
processor = SqsFifoPartialProcessor()


def record_handler(record: SQSRecord) -> None:
    worker.handle(sync_message_adapter.validate_json(record.body))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
