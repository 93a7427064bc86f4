"""What the space_sync worker does with each message."""

from __future__ import annotations

from bridge.core.observability import logger, metrics
from bridge.queueing.messages import SyncRequest, SyncTick


def handle(message: SyncTick | SyncRequest) -> None:
    if isinstance(message, SyncTick):
        metrics.add_metric(name="SyncTicks", unit="Count", value=1)
        logger.info("sync tick received")
        return
    logger.info("sync requested", extra={"org_id": message.org_id, "reason": message.reason})
