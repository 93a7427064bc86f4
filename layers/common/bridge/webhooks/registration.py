"""Register the bridge's webhook in a workspace, surviving "Webhook configuration already exists" (OAUTH_171), and
share it with every organisation connecting the same ClickUp user (README, "Webhooks shared by organisations")."""

from __future__ import annotations

import time
from typing import Any

from bridge.clickup import models
from bridge.clickup.client import HIERARCHY_EVENTS, TASK_EVENTS, ClickUpClient
from bridge.clickup.errors import ClickUpError, NotFound, Permanent
from bridge.core.clock import utc_now_iso
from bridge.core.config import settings
from bridge.core.observability import logger
from bridge.repositories import webhooks as store
from bridge.vault import envelope

EVENTS = TASK_EVENTS + HIERARCHY_EVENTS


JOIN_ATTEMPTS = 8
JOIN_WAIT_S = 0.1


def ours(hooks: list[models.Webhook], endpoint: str) -> list[models.Webhook]:
    """Our webhooks among a user's: our endpoint, the whole workspace (no location filter)."""
    return [h for h in hooks if h.endpoint == endpoint and not (h.space_id or h.folder_id or h.list_id or h.task_id)]


def _create_or_adopt(client: ClickUpClient, workspace_id: str, endpoint: str) -> models.Webhook | None:
    """The webhook created, or the user's existing one adopted; None when the existing one vanished between the
    create and the listing (its last user deleted it meanwhile: the caller tries again)."""
    try:
        return client.create_webhook(workspace_id, endpoint, EVENTS)
    except Permanent as exc:
        if exc.ecode != "OAUTH_171":
            raise
        # The user already has it: another organisation connected with the same ClickUp user, or this one
        # reconnects. Under every reading of OAUTH_171 (README) ours is the one at our endpoint.
        existing = ours(client.get_webhooks(workspace_id), endpoint)
        if not existing:
            return None
        try:
            updated = client.update_webhook(existing[0].id, endpoint, EVENTS, status="active")
        except NotFound:
            return None
        # The update answer may omit the secret; the listing carries it.
        return updated if updated.secret else existing[0]


def register(
    org_id: str, client: ClickUpClient, workspace_id: str, previous_owner: ClickUpClient | None = None
) -> dict[str, Any]:
    """Create our webhook in the workspace, or adopt the one the token's ClickUp user already has (OAUTH_171), and
    join it: one webhook per ClickUp user and workspace, shared by every organisation connecting that user
    (README, "Webhooks shared by organisations"). The organisation's row gets the id and the secret sealed under
    its own vault context; a webhook it used before and no longer does is left (deleted at ClickUp by its last
    user, with `previous_owner`'s token when the organisation reconnected as another ClickUp user). Returns the row
    written; ClickUp refusing leaves `health: unregistered` with ClickUp's code."""
    endpoint = settings().webhook_endpoint
    previous = store.get(org_id, workspace_id)
    try:
        for attempt in range(JOIN_ATTEMPTS):
            hook = _create_or_adopt(client, workspace_id, endpoint)
            if hook is not None and store.join(org_id, workspace_id, hook.id):
                break
            # Its last user is deleting it at ClickUp right now: once gone, the create succeeds.
            time.sleep(JOIN_WAIT_S * (attempt + 1))
        else:
            raise Permanent("the user's webhook kept answering OAUTH_171 without being ours to join", ecode="OAUTH_171")
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
        _leave_previous(org_id, previous_owner or client, previous, None)
        return record
    if not hook.secret:
        store.leave(org_id, hook.id)
        raise Permanent("ClickUp returned a webhook without its secret")
    now = utc_now_iso()
    record = {
        "webhook_id": hook.id,
        "endpoint": endpoint,
        "events": EVENTS,
        "health": hook.health.status,
        "fail_count": hook.health.fail_count,
        "secret": envelope.seal(org_id, envelope.WEBHOOK_SECRET, hook.secret),
        "updated_at": now,
    }
    store.put(org_id, workspace_id, record)
    store.set_health(hook.id, hook.health.status, hook.health.fail_count, now)
    _leave_previous(org_id, previous_owner or client, previous, hook.id)
    return record


def _leave_previous(
    org_id: str, client: ClickUpClient | None, previous: dict[str, Any] | None, now: str | None
) -> None:
    if previous and previous.get("webhook_id") and previous["webhook_id"] != now:
        outcome = leave(org_id, client, previous["webhook_id"])
        logger.info("left the webhook used before", extra={"org_id": org_id, "outcome": outcome})


def leave(org_id: str, client: ClickUpClient | None, webhook_id: str) -> str:
    """Stop using a webhook; the last organisation using it deletes it at ClickUp. Returns the outcome:
    `kept:shared` (another organisation still uses it), `deleted`, `not_found` (already gone at ClickUp),
    `failed:<ecode>`, `skipped:no_usable_token` (nothing could delete it: it stays at ClickUp)."""
    if not store.leave(org_id, webhook_id):
        return "kept:shared" if store.members(store.shared(webhook_id)) else "not_registered"
    try:
        if client is None:
            return "skipped:no_usable_token"
        client.delete_webhook(webhook_id)
        return "deleted"
    except NotFound:
        return "not_found"
    except ClickUpError as exc:
        return f"failed:{exc.ecode or type(exc).__name__}"
    finally:
        store.forget(webhook_id)  # whatever happened, a later connection may register (or adopt) it afresh


def unregister_all(org_id: str, client: ClickUpClient | None) -> list[dict[str, Any]]:
    """Leave our webhooks (each deleted at ClickUp only if no other organisation uses it; best effort, each outcome
    recorded) and forget them here."""
    outcomes = []
    for row in store.list_for(org_id):
        outcome = "not_registered"
        if row.get("webhook_id"):
            outcome = leave(org_id, client, row["webhook_id"])
        store.delete(org_id, row["workspace_id"])
        outcomes.append({"workspace_id": row["workspace_id"], "webhook_id": row.get("webhook_id"), "outcome": outcome})
    return outcomes
