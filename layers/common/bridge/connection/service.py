"""What the connection routes and every ClickUp-calling worker need from the connection: the stored connection,
a client on its token, the token's storage. Below the use cases (sync, tasks, webhooks): it imports none of them;
connecting and disconnecting, which drive them, live above in `bridge.lifecycle.connection`."""

from __future__ import annotations

import time
from typing import Any

from bridge.clickup import models
from bridge.clickup.client import ClickUpClient, RequestHooks
from bridge.clickup.errors import ClickUpError, RateLimited, TokenRevoked, Transient
from bridge.core.clock import utc_now_iso
from bridge.core.errors import Conflict, DependencyUnavailable, Unprocessable
from bridge.core.inputs import is_token_text
from bridge.core.observability import logger
from bridge.events.models import ConnectionNeedsReauth
from bridge.events.publisher import publish
from bridge.ratelimit.limiter import OrgRateLimiter
from bridge.repositories import connections, org_settings, webhooks
from bridge.repositories.table import Done, versioned_update
from bridge.vault import envelope

CONNECTED = "connected"
NEEDS_REAUTH = "needs_reauth"
REAUTH_MESSAGE = "ClickUp access was revoked: an admin must reconnect"
DISCONNECTED = "disconnected"
NOT_CONNECTED = "not_connected"
UNAUTHORIZED = "unauthorized"  # a webhook's health on a workspace the token no longer authorizes


def require_enabled(org_id: str) -> None:
    if not org_settings.get(org_id).enabled:
        raise Conflict("the ClickUp module is disabled for this organisation", code="module_disabled")


def current(org_id: str) -> connections.Connection:
    return connections.get(org_id) or connections.Connection(org_id=org_id)


def time_zone(value: org_settings.OrgSettings, conn: connections.Connection) -> str | None:
    """The zone dates are read and written in: the organisation's setting, else its ClickUp user's (what ClickUp
    renders dates in)."""
    return value.time_zone or conn.user.get("timezone")


def require_connected(
    org_id: str, *, allow_reauth: bool = True, recent: bool = False
) -> tuple[org_settings.OrgSettings, connections.Connection]:
    """The one check in front of every route that needs ClickUp: the module is enabled (409 module_disabled) and
    the organisation connected (409 not_connected; a revoked connection passes when `allow_reauth`, as work
    accepted then waits for the reconnect, else 409 `needs_reauth`). `recent`: settings and connection as read at
    most a few seconds ago in this container, for the portal's hot paths; both are returned so callers read them
    once. A refusal is never made
    on a recent read alone: it is confirmed on what is stored now (another function, the oauth one, may have
    changed the settings or the connection within those seconds, and its container's writes are not seen here)."""
    try:
        return _require_connected(org_id, allow_reauth=allow_reauth, recent=recent)
    except Conflict:
        if not recent:
            raise
        return _require_connected(org_id, allow_reauth=allow_reauth, recent=False)


def _require_connected(
    org_id: str, *, allow_reauth: bool, recent: bool
) -> tuple[org_settings.OrgSettings, connections.Connection]:
    value = org_settings.recent(org_id) if recent else org_settings.get(org_id)
    if not value.enabled:
        raise Conflict("the ClickUp module is disabled for this organisation", code="module_disabled")
    conn = (connections.recent(org_id) if recent else connections.get(org_id)) or connections.Connection(org_id)
    usable = (CONNECTED, NEEDS_REAUTH) if allow_reauth else (CONNECTED,)
    if conn.status == NEEDS_REAUTH and conn.status not in usable:  # the truth: connected once, access revoked
        raise Conflict(REAUTH_MESSAGE, code="needs_reauth")
    if conn.status not in usable:
        raise Conflict("this organisation has not connected ClickUp", code="not_connected")
    return value, conn


def view(org_id: str) -> dict[str, Any]:
    """The connection as the portal sees it: never a token or a secret."""
    conn = current(org_id)
    authorized = set(conn.authorized_workspace_ids)
    hooks = {
        w["workspace_id"]: _webhook_health(w) if w["workspace_id"] in authorized else UNAUTHORIZED
        for w in webhooks.list_for(org_id)
    }
    return {
        "status": conn.status,
        "mode": conn.mode,
        "user": conn.user or None,
        "workspaces": [
            {"id": w["id"], "name": w["name"], "authorized": bool(w.get("authorized"))} for w in conn.workspaces
        ],
        "default_workspace_id": conn.default_workspace_id,
        "connected_at": conn.connected_at,
        "last_sync_at": conn.last_sync_at,
        "webhooks": [{"workspace_id": ws, "health": health} for ws, health in sorted(hooks.items())],
    }


def _webhook_health(row: dict[str, Any]) -> str:
    """The health of the organisation's webhook as last seen at ClickUp by any organisation using it (a shared
    webhook deleted behind our back reads `missing` for each of them), else as the organisation's row has it."""
    if not row.get("webhook_id"):  # a health that is not a word (a row written by hand) reads as unknown, not a 5xx
        health = row.get("health")
        return health if isinstance(health, str) else "unknown"
    meta = webhooks.shared(row["webhook_id"])
    if row["org_id"] not in webhooks.members(meta):
        return "missing"  # no longer ours to receive: its users deleted it, or it was re-created without us
    health = (meta or {}).get("health") or row.get("health")
    return health if isinstance(health, str) else "unknown"


def client_for(
    org_id: str,
    *,
    remaining_s: Any = None,
    hooks: RequestHooks | None = None,
    conn: connections.Connection | None = None,
) -> ClickUpClient:
    """A client with the organisation's token, only while the connection is usable (`conn`: already read)."""
    conn = conn or current(org_id)
    if conn.status == NEEDS_REAUTH:
        raise Conflict(REAUTH_MESSAGE, code="needs_reauth")
    if conn.status != CONNECTED or not conn.token:
        raise Conflict("this organisation has not connected ClickUp", code="not_connected")
    token = envelope.open_envelope(org_id, envelope.TOKEN, conn.token)
    return ClickUpClient(token, hooks=hooks or OrgRateLimiter(org_id), remaining_s=remaining_s)


def token_revoked(org_id: str, where: str) -> None:
    """ClickUp said the token is revoked: stop work for the organisation and tell the portal (once)."""
    if connections.mark_status(org_id, NEEDS_REAUTH, only_if=(CONNECTED,)):
        logger.warning("clickup token revoked", extra={"org_id": org_id, "where": where})
        publish(org_id, "clickup.connection.needs_reauth", ConnectionNeedsReauth(detected_in=where))


def workspace_not_authorized(
    org_id: str, workspace_id: str, client: ClickUpClient, where: str, *, teams: list[models.Team] | None = None
) -> bool:
    """ClickUp answered `WorkspaceNotAuthorized` (401 `OAUTH_027` "Team not authorized" / `OAUTH_023`) to a call
    about the workspace itself (`GET /team/{id}/...`). The token may have been narrowed: ClickUp keeps one token
    per user and app, and a later consent for fewer workspaces (by this organisation or another one connecting the
    same user) narrows it (developer.clickup.com/docs/authentication: "Workspaces a user authorizes").
    `OAUTH_023` also answers an unknown or invisible id, so the token's own list (`GET /team`, the workspaces it
    authorizes) decides: when the workspace is not in it, the connection marks it `authorized: false` (the
    default workspace moves to another authorized one), logs a warning and counts `WorkspaceUnauthorized`.
    Returns True when the workspace is (now) unauthorized; False when `GET /team` still lists it (the caller
    skips it this time). `teams`: `GET /team` as just read (not read again). Raises what `GET /team` raises
    (`TokenRevoked`, `RateLimited`, `Transient`)."""
    from bridge.core.observability import metrics

    if workspace_id in {t.id for t in (client.get_teams() if teams is None else teams)}:
        logger.warning("workspace refused but still authorized", extra={"org_id": org_id, "workspace_id": workspace_id})
        return False

    def unauthorize(conn: connections.Connection) -> connections.Connection | Done:
        if workspace_id not in conn.authorized_workspace_ids:
            return Done(None)  # already marked (another job), or a reconnect dropped it
        workspaces: list[connections.Workspace] = [
            {**w, "authorized": False} if w["id"] == workspace_id else w for w in conn.workspaces
        ]
        conn.workspaces = workspaces
        if conn.default_workspace_id == workspace_id:
            conn.default_workspace_id = next((w["id"] for w in workspaces if w.get("authorized")), None)
        return conn

    marked = versioned_update(
        lambda: current(org_id),
        unauthorize,
        save_connection,
        tries=5,
        contended=_contention("store"),
    )
    if marked is None:
        return True
    row = webhooks.get(org_id, workspace_id)
    if row is not None:
        kept = {k: v for k, v in row.items() if k not in ("pk", "sk", "org_id", "workspace_id")}
        webhooks.put(org_id, workspace_id, {**kept, "health": UNAUTHORIZED, "checked_at": utc_now_iso()})
    metrics.add_metric(name="WorkspaceUnauthorized", unit="Count", value=1)
    logger.warning(
        "workspace no longer authorized by the token",
        extra={"org_id": org_id, "workspace_id": workspace_id, "where": where},
    )
    return True


def store_token(
    org_id: str,
    token: str,
    mode: str,
    user: models.User,
    teams: list[models.Team],
    obtained_at: float,
    oauth_state: str | None = None,
) -> connections.Connection:
    """Save a new token atomically (conditional on the version read); a newer token is never overwritten.
    `oauth_state`: the hash of the OAuth state whose callback obtained the token (a reloaded callback checks it)."""

    def replace(conn: connections.Connection) -> connections.Connection | Done:
        if conn.token and conn.token_obtained_at > obtained_at and conn.status == CONNECTED:
            logger.info("a newer token is already stored; keeping it", extra={"org_id": org_id})
            return Done(conn)
        known = {w["id"]: w for w in conn.workspaces}
        authorized = {t.id for t in teams}
        for team in teams:
            known[team.id] = {"id": team.id, "name": team.name, "authorized": True}
        for ws_id, ws in known.items():
            ws["authorized"] = ws_id in authorized
        default = (
            conn.default_workspace_id if conn.default_workspace_id in authorized else (teams[0].id if teams else None)
        )
        updated = connections.Connection(
            org_id=org_id,
            status=CONNECTED,
            mode=mode,
            user={"id": user.id, "username": user.username, "email": user.email, "timezone": user.timezone},
            workspaces=list(known.values()),
            default_workspace_id=default,
            connected_at=utc_now_iso(),
            last_sync_at=conn.last_sync_at,
            token=envelope.seal(org_id, envelope.TOKEN, token),
            token_obtained_at=obtained_at,
            oauth_state=oauth_state,
            version=conn.version,  # written conditionally on the version read
        )
        return updated

    stored: connections.Connection = versioned_update(
        lambda: current(org_id),
        replace,
        save_connection,
        tries=5,
        contended=_contention("store"),
    )
    return stored


def save_connection(conn: connections.Connection) -> bool:
    """Write the connection if nobody wrote it since its `version` was read (False: a lost race)."""
    return connections.save(conn, expected_version=conn.version)


def _contention(verb: str) -> DependencyUnavailable:
    """503 `store_contention`: the connection kept changing under 5 conditional writes."""
    return DependencyUnavailable(f"could not {verb} the connection (too much contention)", code="store_contention")


PERSONAL_TOKEN_MAX_CHARS = 256


def personal_token(pasted: str) -> str:
    """The personal token an admin pasted, trimmed; 422 `token_malformed` unless it is `pk_` and 10..256 visible
    ASCII characters. It travels as the `Authorization` header value (ClickUp's authentication docs: "pk_..."),
    and a header holds visible ASCII only (RFC 9110 §5.5): anything else would fail inside the HTTP client."""
    token = pasted.strip()
    if not token.startswith("pk_") or len(token) < 10 or not is_token_text(token, PERSONAL_TOKEN_MAX_CHARS):
        raise Unprocessable("a ClickUp personal token is pk_ followed by letters and digits", code="token_malformed")
    return token


def set_default_workspace(org_id: str, workspace_id: str) -> dict[str, Any]:
    def choose(conn: connections.Connection) -> connections.Connection:
        if conn.status not in (CONNECTED, NEEDS_REAUTH):
            raise Conflict("this organisation has not connected ClickUp", code="not_connected")
        if workspace_id not in conn.authorized_workspace_ids:
            raise Unprocessable("that workspace is not one the connection authorized", code="workspace_not_authorized")
        conn.default_workspace_id = workspace_id
        return conn

    versioned_update(
        lambda: current(org_id),
        choose,
        save_connection,
        tries=5,
        contended=_contention("update"),
    )
    return view(org_id)


def test(org_id: str, remaining_s: Any = None) -> dict[str, Any]:
    conn = current(org_id)
    if conn.status == NEEDS_REAUTH:
        return {"result": "revoked", "detail": REAUTH_MESSAGE}
    # The connection as read: a sync finding the token revoked meanwhile must not turn the answer into a 409
    client = client_for(org_id, remaining_s=remaining_s, conn=conn)
    started = time.perf_counter()
    try:
        user = client.get_user()
    except RateLimited:
        raise  # the route answers 429 with Retry-After
    except TokenRevoked:
        token_revoked(org_id, "connection test")
        return {"result": "revoked", "detail": REAUTH_MESSAGE}
    except Transient as exc:
        return {"result": "unreachable", "detail": f"ClickUp answered {exc.status or 'nothing'} {exc.ecode}".strip()}
    except ClickUpError as exc:
        return {"result": "refused", "detail": f"ClickUp answered {exc.status} {exc.ecode}".strip()}
    return {
        "result": "ok",
        "detail": f"ClickUp answered as user {user.id}",
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
