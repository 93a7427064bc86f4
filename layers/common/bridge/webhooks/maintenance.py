"""The maintenance worker's jobs: the schedules' ticks fan out one job per connected organisation (its own
message group, so one organisation's sweeps never overlap), and each job sweeps or checks webhook health."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from bridge.clickup.errors import TokenRevoked
from bridge.connection import service as connection
from bridge.core import aws
from bridge.core.config import settings
from bridge.core.errors import Conflict
from bridge.core.observability import logger, metrics
from bridge.queueing.messages import MaintenanceJob, MaintenanceTick
from bridge.repositories import org_index, org_settings
from bridge.webhooks import health, reconcile


def send(kind: str, org_id: str) -> None:
    aws.client("sqs").send_message(
        QueueUrl=settings().maintenance_queue_url,
        MessageBody=json.dumps({"kind": kind, "org_id": org_id}),
        MessageGroupId=org_id[:128],
        MessageDeduplicationId=uuid.uuid4().hex,
    )


def handle(
    message: MaintenanceTick | MaintenanceJob, remaining_s: Callable[[], float], job_id: str | None = None
) -> None:
    """`job_id`: the queue message's id, the same on every receive (a sweep's outbox entries are its own)."""
    if isinstance(message, MaintenanceTick):
        job = "sweep" if message.kind == "sweep_tick" else "health"
        queued = 0
        for org_id in org_index.all_orgs():
            try:
                if connection.current(org_id).status == connection.CONNECTED and org_settings.get(org_id).enabled:
                    send(job, org_id)
                    queued += 1
            except Exception:  # noqa: BLE001 - one organisation's bad row must not stop the others' jobs
                logger.exception("maintenance fan-out failed for an organisation", extra={"org_id": org_id})
        logger.info("maintenance tick", extra={"job": job, "queued": queued})
        return
    try:
        if message.kind == "sweep":
            try:
                reconcile.sweep(message.org_id, remaining_s, owner=job_id)
            except reconcile.Interrupted as stop:
                logger.info("sweep continues in a new message", extra={"org_id": message.org_id, "at": str(stop)})
                send("sweep", message.org_id)
        else:
            outcomes = health.check(message.org_id, remaining_s)
            metrics.add_metric(name="WebhooksChecked", unit="Count", value=len(outcomes))
    except TokenRevoked:
        connection.token_revoked(message.org_id, f"maintenance:{message.kind}")
    except Conflict as exc:  # not connected any more, needs re-auth, disabled: nothing to do now
        logger.info("maintenance skipped", extra={"org_id": message.org_id, "code": exc.code})
