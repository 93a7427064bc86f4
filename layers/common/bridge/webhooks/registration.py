"""Register the bridge's webhook in a workspace, surviving "Webhook configuration already exists" (OAUTH_171)."""

from __future__ import annotations

from typing import Any

from bridge.clickup.client import HIERARCHY_EVENTS, TASK_EVENTS, ClickUpClient
from bridge.clickup.errors import ClickUpError, Permanent
from bridge.core.clock import utc_now_iso
from bridge.core.config import settings
from bridge.core.observability import logger
from bridge.repositories import webhooks as store
from bridge.vault import envelope

EVENTS = TASK_EVENTS + HIERARCHY_EVENTS


def register(org_id: str, client: ClickUpClient, workspace_id: str) -> dict[str, Any]:
    """Create our webhook (or adopt and update the one that exists) and store its id and encrypted secret."""
    endpoint = settings().webhook_endpoint
    try:
        try:
            hook = client.create_webhook(workspace_id, endpoint, EVENTS)
        except Permanent as exc:
            if exc.ecode != "OAUTH_171":
                raise
            existing = [h for h in client.get_webhooks(workspace_id) if h.endpoint == endpoint]
            if not existing:
                raise
            updated = client.update_webhook(existing[0].id, endpoint, EVENTS, status="active")
            # The update answer may omit the secret; the listing carries it.
            hook = updated if updated.secret else existing[0]
    except ClickUpError as exc:
        logger.warning(
            "webhook registration failed", extra={"org_id": org_id, "workspace_id": workspace_id, "ecode": exc.ecode}
        )
        record: dict[str, Any] = {
            "webhook_id": None,
            "health": "unregistered",
            "last_error": exc.ecode or type(exc).__name__,
            "updated_at": utc_now_iso(),
        }
        store.put(org_id, workspace_id, record)
        return record
    if not hook.secret:
        raise Permanent("ClickUp returned a webhook without its secret")
    record = {
        "webhook_id": hook.id,
        "endpoint": endpoint,
        "events": EVENTS,
        "health": hook.health.status,
        "fail_count": hook.health.fail_count,
        "secret": envelope.seal(org_id, envelope.WEBHOOK_SECRET, hook.secret),
        "updated_at": utc_now_iso(),
    }
    store.put(org_id, workspace_id, record)
    return record


def unregister_all(org_id: str, client: ClickUpClient | None) -> list[dict[str, Any]]:
    """Delete our webhooks at ClickUp (best effort, each outcome recorded) and forget them here."""
    outcomes = []
    for row in store.list_for(org_id):
        outcome = "not_registered"
        if row.get("webhook_id") and client is not None:
            try:
                client.delete_webhook(row["webhook_id"])
                outcome = "deleted"
            except ClickUpError as exc:
                outcome = f"failed:{exc.ecode or type(exc).__name__}"
        elif row.get("webhook_id"):
            outcome = "skipped:no_usable_token"
        store.delete(org_id, row["workspace_id"], row.get("webhook_id"))
        outcomes.append({"workspace_id": row["workspace_id"], "webhook_id": row.get("webhook_id"), "outcome": outcome})
    return outcomes
