"""The maintenance worker's jobs: the schedules' ticks fan out one job per organisation of the index in bounded
pages (`bridge.queueing.fanout`), and each job, once per tick, sweeps or checks webhook health when the
organisation is connected and enabled."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Literal

from bridge.clickup.errors import TokenRevoked, WorkspaceNotAuthorized
from bridge.connection import service as connection
from bridge.core.config import settings
from bridge.core.errors import Conflict
from bridge.core.observability import logger, metrics
from bridge.queueing import fanout, producer
from bridge.queueing.messages import MaintenanceJob, MaintenanceTick
from bridge.repositories import org_settings, tick_marks
from bridge.webhooks import health, reconcile


def tick(
    message: MaintenanceTick,
    remaining_s: Callable[[], float],
    *,
    group_id: str | None = None,
    sent_timestamp_ms: str | int | None = None,
    page_size: int | None = None,
    queue_url: str | None = None,
) -> fanout.PageResult:
    """One page of a tick: a sweep or health job queued for each organisation of the page (each in its own message
    group, so one organisation's sweeps never overlap), then the next page (see `bridge.queueing.fanout`).
    `page_size` and `queue_url` default to the function's settings (TICK_PAGE_SIZE, MAINTENANCE_QUEUE_URL)."""
    job: Literal["sweep", "health"] = "sweep" if message.kind == "sweep_tick" else "health"
    tick_id = fanout.tick_id(message.tick, sent_timestamp_ms)
    return fanout.run_page(
        queue_url=queue_url,
        tick_message=MaintenanceTick(kind=message.kind, tick=tick_id, after=message.after),
        job=lambda org_id: MaintenanceJob(kind=job, org_id=org_id, tick=tick_id),
        group_id=group_id or message.kind,
        remaining_s=remaining_s,
        page_size=page_size or settings().tick_page_size,
    )


def handle(
    message: MaintenanceTick | MaintenanceJob,
    remaining_s: Callable[[], float],
    job_id: str | None = None,
    *,
    group_id: str | None = None,
    sent_timestamp_ms: str | int | None = None,
) -> None:
    """`job_id`: the queue message's id, the same on every receive (a sweep's outbox entries are its own, and a
    tick's job keeps its claim on the tick when received again)."""
    if isinstance(message, MaintenanceTick):
        tick(message, remaining_s, group_id=group_id, sent_timestamp_ms=sent_timestamp_ms)
        return
    if message.tick is not None:
        if not tick_marks.claim(message.org_id, message.kind, message.tick, job_id or uuid.uuid4().hex):
            metrics.add_metric(name="TickJobsDuplicate", unit="Count", value=1)
            logger.info("tick job already ran", extra={"org_id": message.org_id, "tick": message.tick})
            return
        if (
            connection.current(message.org_id).status != connection.CONNECTED
            or not org_settings.get(message.org_id).enabled
        ):
            logger.info("maintenance skipped: not connected or disabled", extra={"org_id": message.org_id})
            return
    try:
        if message.kind == "sweep":
            try:
                reconcile.sweep(message.org_id, remaining_s, owner=job_id)
            except reconcile.Interrupted as stop:
                logger.info("sweep continues in a new message", extra={"org_id": message.org_id, "at": str(stop)})
                producer.enqueue(MaintenanceJob(kind="sweep", org_id=message.org_id))
        else:
            outcomes = health.check(message.org_id, remaining_s)
            metrics.add_metric(name="WebhooksChecked", unit="Count", value=len(outcomes))
    except TokenRevoked:
        connection.token_revoked(message.org_id, f"maintenance:{message.kind}")
    except WorkspaceNotAuthorized as exc:
        # Each job handles a workspace the token no longer authorizes per workspace (marked on the connection);
        # one that still escapes ends the job rather than retrying it for ever: the next tick runs it again.
        metrics.add_metric(name="MaintenanceWorkspaceRefused", unit="Count", value=1)
        logger.warning(
            "maintenance stopped: workspace not authorized",
            extra={"org_id": message.org_id, "kind": message.kind, "code": exc.ecode},
        )
    except Conflict as exc:  # not connected any more, needs re-auth, disabled: nothing to do now
        logger.info("maintenance skipped", extra={"org_id": message.org_id, "code": exc.code})
