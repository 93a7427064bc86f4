"""Webhook health: ClickUp marks a webhook `failing`, suspends it after 100 dropped events (or one 410) and tells
no one. Each check lists our webhooks, re-enables unhealthy ones, re-creates missing ones (with a new secret,
stored through the vault), and records what it found."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.clickup.client import ClickUpClient
from bridge.clickup.errors import WorkspaceNotAuthorized
from bridge.connection import service as connection
from bridge.core.clock import utc_now_iso
from bridge.core.config import settings
from bridge.core.observability import logger, metrics
from bridge.repositories import webhooks as store
from bridge.webhooks import registration

UNHEALTHY = ("failing", "suspended")


def check(org_id: str, remaining_s: Callable[[], float]) -> list[dict[str, Any]]:
    conn = connection.current(org_id)
    if conn.status != connection.CONNECTED:
        return []
    client = connection.client_for(org_id, remaining_s=remaining_s, conn=conn)
    stored = {row["workspace_id"]: row for row in store.list_for(org_id)}
    outcomes = []
    for ws in conn.authorized_workspace_ids:
        try:
            outcomes.append(_check_workspace(org_id, client, ws, stored.get(ws)))
        except WorkspaceNotAuthorized:
            # `GET /team/{id}/webhook` refused: the token no longer authorizes the workspace (narrowed by a later
            # consent). Marked on the connection (its webhook then reads `unauthorized`); the others are checked.
            if not connection.workspace_not_authorized(org_id, ws, client, "webhook_health"):
                continue
            outcomes.append({"workspace_id": ws, "found": "unauthorized", "action": "none", "health": "unauthorized"})
    return outcomes


def _check_workspace(org_id: str, client: ClickUpClient, ws: str, row: dict[str, Any] | None) -> dict[str, Any]:
    endpoint = settings().webhook_endpoint
    ours = registration.ours(client.get_webhooks(ws), endpoint)
    held = row.get("webhook_id") if row else None
    hook = next((h for h in ours if h.id == held), None)
    if hook is None:
        # Ours is missing at ClickUp (deleted behind our back, or never registered), or the user's webhook is now
        # another one (an organisation sharing it re-created it): what every user of ours sees says so at once,
        # then this organisation registers, adopting the one that exists (OAUTH_171) or creating it.
        if held:
            store.set_health(held, "missing", 0, utc_now_iso())
        record = registration.register(org_id, client, ws)
        action = "adopted" if ours else "recreated"
        if not ours:
            metrics.add_metric(name="WebhookRecreated", unit="Count", value=1)
            metrics.add_metric(name="WebhookUnhealthy", unit="Count", value=1)
        logger.warning(f"webhook {action}", extra={"org_id": org_id, "workspace_id": ws})
        return {"workspace_id": ws, "found": "missing", "action": action, "health": record.get("health")}
    found = hook.health.status
    action = "none"
    if found in UNHEALTHY:
        hook = client.update_webhook(hook.id, endpoint, registration.EVENTS, status="active")
        action = "reenabled"
        metrics.add_metric(name="WebhookUnhealthy", unit="Count", value=1)
        logger.warning("webhook re-enabled", extra={"org_id": org_id, "workspace_id": ws, "was": found})
    now = utc_now_iso()
    kept = {k: v for k, v in (row or {}).items() if k not in ("pk", "sk", "org_id", "workspace_id")}
    store.put(
        org_id, ws, {**kept, "health": hook.health.status, "fail_count": hook.health.fail_count, "checked_at": now}
    )
    store.set_health(hook.id, hook.health.status, hook.health.fail_count, now)
    return {"workspace_id": ws, "found": found, "action": action, "health": hook.health.status}
