"""Hand a record back to its queue until ClickUp's budget is back, instead of sleeping inside the Lambda:
its visibility is set to the reset time, then the record is reported as a batch item failure."""

from __future__ import annotations

import math
import time
from functools import cache

from bridge.core import aws
from bridge.core.observability import logger, metrics

MAX_VISIBILITY_S = 12 * 3600


@cache
def _queue_url(queue_arn: str) -> str:
    name = queue_arn.rsplit(":", 1)[1]
    return str(aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def hand_back(queue_arn: str, receipt_handle: str, reset_at: float) -> int:
    delay = min(MAX_VISIBILITY_S, max(1, math.ceil(reset_at - time.time())))
    aws.client("sqs").change_message_visibility(
        QueueUrl=_queue_url(queue_arn), ReceiptHandle=receipt_handle, VisibilityTimeout=delay
    )
    metrics.add_metric(name="RecordsHandedBack", unit="Count", value=1)
    logger.info("budget spent: record handed back", extra={"visible_in_s": delay})
    return delay


def back_off(queue_arn: str, receipt_handle: str, receive_count: int, delays_s: tuple[int, ...]) -> int:
    """Hand a record back after the delay its receive count reaches in `delays_s` (the last one repeats)."""
    return hand_back(queue_arn, receipt_handle, time.time() + delays_s[min(max(receive_count, 1), len(delays_s)) - 1])
