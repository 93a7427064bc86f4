"""SQS batches through Powertools' partial batch processors, imported when the first batch arrives.

`aws_lambda_powertools.utilities.batch` cannot be imported in part: its package imports every processor (asyncio for
the async one) and the DynamoDB Streams, Kinesis, Kafka and SQS data classes, about a fifth of a naive handler's
cold start (issue 18). The workers' modules therefore declare their processor as an `SqsBatch`, which imports
Powertools' batch utility and builds the processor at the first batch of the execution environment (the cost moves
from the initialisation to the first invocation; every later batch reuses it). The processing is Powertools' own:
`process_partial_response` with `BatchProcessor(event_type=EventType.SQS)`, or `SqsFifoPartialProcessor` for a FIFO
queue (AWS Lambda Developer Guide, "Handling errors for an SQS event source in Lambda": partial batch responses,
`batchItemFailures`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BasePartialBatchProcessor
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class SqsBatch:
    """A partial batch processor of SQS records, built on first use.

    `fifo=False`: Powertools' `BatchProcessor(event_type=EventType.SQS)` (every record on its own);
    `fifo=True`: `SqsFifoPartialProcessor(skip_group_on_error=...)` (a failed record fails the rest of the batch, or
    with `skip_group_on_error` the rest of its message group only).
    """

    def __init__(self, *, fifo: bool = False, skip_group_on_error: bool = False) -> None:
        self._fifo = fifo
        self._skip_group_on_error = skip_group_on_error
        self._processor: BasePartialBatchProcessor | None = None
        self._lock = threading.Lock()

    def processor(self) -> BasePartialBatchProcessor:
        """The Powertools processor (built once; imports Powertools' batch utility)."""
        if self._processor is None:
            with self._lock:
                if self._processor is None:
                    from aws_lambda_powertools.utilities.batch import (
                        BatchProcessor,
                        EventType,
                        SqsFifoPartialProcessor,
                    )

                    self._processor = (
                        SqsFifoPartialProcessor(skip_group_on_error=self._skip_group_on_error)
                        if self._fifo
                        else BatchProcessor(event_type=EventType.SQS)
                    )
        return self._processor

    def process(
        self, event: dict[str, Any], record_handler: Callable[[SQSRecord], Any], context: Any
    ) -> dict[str, Any]:
        """Powertools' `process_partial_response`: `{"batchItemFailures": [{"itemIdentifier": message id}, ...]}`;
        raises Powertools' `BatchProcessingError` when every record failed."""
        from aws_lambda_powertools.utilities.batch import process_partial_response

        processor = self.processor()
        return dict(
            process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
        )


def sqs_record(raw: dict[str, Any]) -> SQSRecord:
    """Powertools' `SQSRecord` over one record of an SQS event (imports Powertools' data classes on first use)."""
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    return SQSRecord(raw)
