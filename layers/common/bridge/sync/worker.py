"""What the space_sync worker does with each message."""

from __future__ import annotations

from collections.abc import Callable

from bridge.clickup.errors import TokenRevoked
from bridge.connection import service as connection
from bridge.core.errors import Conflict
from bridge.core.observability import logger, metrics
from bridge.queueing import producer
from bridge.queueing.messages import SyncCheck, SyncRefresh, SyncRequest, SyncTick
from bridge.repositories import sync_state
from bridge.sync import service


def handle(
    message: SyncTick | SyncCheck | SyncRequest | SyncRefresh,
    remaining_s: Callable[[], float],
    job_id: str | None = None,
    *,
    group_id: str | None = None,
    sent_timestamp_ms: str | int | None = None,
) -> None:
    """`job_id`: the queue message's id (the same on every receive); `group_id` and `sent_timestamp_ms`: its FIFO
    message group and SentTimestamp, which a tick's pages continue in and name the tick by."""
    if isinstance(message, SyncTick):
        page = service.fan_out(message, remaining_s, group_id=group_id, sent_timestamp_ms=sent_timestamp_ms)
        if message.after is None:
            metrics.add_metric(name="SyncTicks", unit="Count", value=1)
        logger.info("sync tick page", extra={"orgs": page.orgs, "continued": page.continued})
        return
    if isinstance(message, SyncCheck):
        service.check_stale(message.org_id, message.tick, job_id or message.tick)
        return
    try:
        if isinstance(message, SyncRequest):
            try:
                service.run_full_sync(message.org_id, remaining_s, message.reason)
            except service.Interrupted as stop:
                logger.info("sync interrupted; continuing in a new message", extra={"reason": str(stop)})
                producer.enqueue(SyncRequest(kind="sync", org_id=message.org_id, reason="resume"))
        else:
            service.refresh(
                message.org_id,
                message.workspace_id,
                message.space_id,
                message.list_id,
                message.folder_id,
                message.deleted,
                remaining_s,
            )
    except TokenRevoked:
        connection.token_revoked(message.org_id, "space sync")  # work stops; nothing to retry
        sync_state.set_state(message.org_id, "idle")
    except Conflict as exc:  # not connected, needs re-auth, disabled: nothing to do for now
        logger.info("sync skipped", extra={"org_id": message.org_id, "code": exc.code})
