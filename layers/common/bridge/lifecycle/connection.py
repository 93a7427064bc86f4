"""The connection lifecycle: connect (and reconnect) and disconnect. It orchestrates the use cases from above:
it registers and leaves webhooks, queues the first sync and resumes the tasks that waited for a token, and none of
them imports it (`make lint`'s import contract, .importlinter)."""

from __future__ import annotations

import time
from typing import Any

from bridge.clickup.client import ClickUpClient
from bridge.connection.service import DISCONNECTED, current, save_connection, store_token
from bridge.core.errors import Unprocessable
from bridge.events.models import ConnectionConnected, ConnectionDisconnected, WebhookOutcome
from bridge.events.publisher import publish
from bridge.ratelimit.limiter import OrgRateLimiter
from bridge.repositories import connections, members, org_index, table, webhooks
from bridge.repositories.table import Done, versioned_update
from bridge.vault import envelope
from bridge.webhooks import registration


def connect_with_token(
    org_id: str, token: str, mode: str, remaining_s: Any = None, oauth_state: str | None = None
) -> connections.Connection:
    """Validate a token with GET /user and GET /team, store it, register webhooks, queue the first sync.
    `oauth_state`: the hash of the OAuth state the token came through (None for a personal token)."""
    obtained_at = time.time()
    client = ClickUpClient(token, remaining_s=remaining_s, hooks=OrgRateLimiter(org_id))
    user, teams = client.get_user(), client.get_teams()
    if not teams:
        raise Unprocessable("the ClickUp token gives access to no workspace", code="no_workspace")
    before = connections.get(org_id)
    conn = store_token(org_id, token, mode, user, teams, obtained_at, oauth_state)
    previous_owner = _previous_client(org_id, before, user.id)
    for team in teams:
        members.put(org_id, team.id, team.member_rows)  # who may be assigned (refreshed by each full sync)
        registration.register(org_id, client, team.id, previous_owner=previous_owner)
    for row in webhooks.list_for(org_id):  # a workspace this connection no longer authorizes: leave its webhook
        if row["workspace_id"] not in {t.id for t in teams}:
            if row.get("webhook_id"):
                registration.leave(org_id, previous_owner or client, row["webhook_id"])
            webhooks.delete(org_id, row["workspace_id"])
    org_index.add(org_id)
    # Imported here, not at the top: the oauth function's cold start does not load the sync and the task pipeline
    # for the one call that needs them (these lazy imports point down a layer, as `make lint` requires).
    from bridge.sync.service import request_sync
    from bridge.tasks.service import resume

    request_sync(org_id, "connect")
    resume(org_id)  # what waited for a token (queued creations, accepted changes) goes again
    publish(
        org_id,
        "clickup.connection.connected",
        ConnectionConnected.model_validate({"mode": mode, "workspaces": [t.id for t in teams]}),
    )
    return conn


def _previous_client(org_id: str, before: connections.Connection | None, user_id: Any) -> ClickUpClient | None:
    """A client on the token this organisation held before reconnecting as another ClickUp user: that user owns
    the webhooks it leaves, so only their token can delete them. None when it is the same user, or no token."""
    if not before or not before.token or str((before.user or {}).get("id")) == str(user_id):
        return None
    try:
        return ClickUpClient(envelope.open_envelope(org_id, envelope.TOKEN, before.token), hooks=OrgRateLimiter(org_id))
    except envelope.VaultError:
        return None


def disconnect(org_id: str, purge: bool) -> dict[str, Any]:
    """Idempotent: webhooks deleted at ClickUp (best effort), token and secrets shredded, status disconnected."""
    conn = connections.get(org_id)
    client = None
    if conn and conn.token:
        try:
            client = ClickUpClient(
                envelope.open_envelope(org_id, envelope.TOKEN, conn.token), hooks=OrgRateLimiter(org_id)
            )
        except envelope.VaultError:
            client = None
    outcomes = registration.unregister_all(org_id, client)
    envelope.forget(org_id)
    org_index.remove(org_id)
    if conn and conn.status != DISCONNECTED:
        last: list[connections.Connection] = []

        def forget(latest: connections.Connection) -> connections.Connection:
            latest.status, latest.token, latest.token_obtained_at = DISCONNECTED, None, 0.0
            last[:] = [latest]
            return latest

        # still contended after 5 tries: the status stays as stored (the token is shredded all the same)
        versioned_update(lambda: current(org_id), forget, save_connection, tries=5, contended=Done(None))
        conn = last[-1]
    if purge:
        _purge_links(org_id)
    if conn and (outcomes or conn.status == DISCONNECTED):
        webhooks = [WebhookOutcome.model_validate(outcome) for outcome in outcomes]
        publish(org_id, "clickup.connection.disconnected", ConnectionDisconnected(webhooks=webhooks, purged=purge))
    return {"webhooks": outcomes, "purged": purge}


def _purge_links(org_id: str) -> None:
    main = table.main_table()
    for prefix in ("TICKET#", "AUDIT#", "HIER#", "SYNC", "CUSTOMER#"):
        for row in table.query_org(org_id, prefix):
            main.delete_item(Key={"pk": row["pk"], "sk": row["sk"]})
            if prefix == "TICKET#" and row.get("task_id"):
                main.delete_item(Key={"pk": f"TASK#{row['task_id']}", "sk": "LINK"})
