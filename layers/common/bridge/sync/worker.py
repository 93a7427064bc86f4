"""What the space_sync worker does with each message."""

from __future__ import annotations

from collections.abc import Callable

from bridge.clickup.errors import TokenRevoked
from bridge.connection import service as connection
from bridge.core.errors import Conflict
from bridge.core.observability import logger, metrics
from bridge.queueing.messages import SyncRefresh, SyncRequest, SyncTick
from bridge.repositories import sync_state
from bridge.sync import service


def handle(message: SyncTick | SyncRequest | SyncRefresh, remaining_s: Callable[[], float]) -> None:
    if isinstance(message, SyncTick):
        queued = service.fan_out()
        metrics.add_metric(name="SyncTicks", unit="Count", value=1)
        logger.info("sync tick", extra={"queued": queued})
        return
    try:
        if isinstance(message, SyncRequest):
            try:
                service.run_full_sync(message.org_id, remaining_s, message.reason)
            except service.Interrupted as stop:
                logger.info("sync interrupted; continuing in a new message", extra={"reason": str(stop)})
                service.send({"kind": "sync", "org_id": message.org_id, "reason": "resume"})
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
