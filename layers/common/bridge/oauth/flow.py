"""The OAuth flow: start (a state bound to organisation, user and return_to) and the callback."""

from __future__ import annotations

import math
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from bridge.clickup.client import exchange_code
from bridge.clickup.errors import ClickUpError, RateLimited, TokenRevoked, Transient, WorkspaceNotAuthorized
from bridge.connection import service
from bridge.core.config import settings
from bridge.core.errors import BridgeError, DependencyUnavailable
from bridge.core.inputs import is_token_text
from bridge.core.observability import logger, metrics
from bridge.core.principal import Principal
from bridge.core.return_to import is_allowed
from bridge.lifecycle import connection as lifecycle
from bridge.repositories import oauth_states, org_settings

STATE_TTL_S = 600
CONNECTED = "connected"
CODE_MAX_CHARS = 512
REPLAY_WAIT_S = 10.0  # a repeated callback waits at most this long for the first one's outcome
REPLAY_POLL_S = 0.25
_STATE = re.compile(r"[A-Za-z0-9_-]{20,128}")  # what `secrets.token_urlsafe(32)` issues (43 characters)


def start(principal: Principal, return_to: str) -> dict[str, Any]:
    service.require_enabled(principal.org_id)
    cfg = settings()
    if not cfg.clickup_client_id:
        # A deployment without the OAuth app's client id (GET /health names it): ClickUp's page would only fail.
        raise DependencyUnavailable("the bridge has no ClickUp client id configured", code="not_configured")
    allow_list = org_settings.get(principal.org_id).return_to_allow_list
    if not is_allowed(return_to, allow_list, cfg.portal_origin):
        raise BridgeError("return_to is not an allowed portal origin", code="return_to_not_allowed")
    state = secrets.token_urlsafe(32)  # 256 bits
    expires_at = int(time.time()) + STATE_TTL_S
    oauth_states.create(state, principal.org_id, principal.user_id, return_to, expires_at)
    query = urlencode({"client_id": cfg.clickup_client_id, "redirect_uri": cfg.oauth_redirect_uri, "state": state})
    return {
        "authorize_url": f"{cfg.clickup_app_base_url.rstrip('/')}/api?{query}",
        "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat().replace("+00:00", "Z"),
    }


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _fail(return_to: str, reason: str, **extra: str) -> str:
    """`extra`: `retry_after` (seconds) with `clickup_rate_limited`."""
    metrics.add_metric(name="OAuthCallbackFailed", unit="Count", value=1)
    logger.info("oauth callback failed", extra={"reason": reason})
    return _with_query(return_to, clickup="error", reason=reason, **extra)


def callback(params: dict[str, str], remaining_s: Any = None) -> str:
    """Complete the flow; returns where to send the browser (never an error page, never a 5xx).

    `params` are the callback's query parameters as received (any text). The state is claimed once; a callback
    that finds its state already claimed (the browser reloaded, or the page was opened twice) is answered with
    what became of that claim, without a second code exchange: `clickup=connected` when the claim connected the
    organisation, the state has not expired and the organisation is still connected by that very claim; otherwise
    `state_expired` (after the state's 10 minutes) or `state_invalid` (unknown state, a claim that failed, an
    organisation disconnected, needing re-authorization or reconnected through another flow since)."""
    state = params.get("state") or ""
    if not _STATE.fullmatch(state):  # not a state this bridge issued: never looked up
        return _fail(settings().portal_origin, "state_invalid")
    flow = oauth_states.claim(state)
    if flow is None:
        return _replayed(state, remaining_s)
    outcome = "interrupted"  # what a repeated callback finds if this one dies half-way
    extra: dict[str, str] = {}
    try:
        outcome = _complete(state, flow, params, remaining_s, extra)
    finally:
        _record(state, outcome)
    if outcome != CONNECTED:
        return _fail(flow["return_to"], outcome, **extra)
    metrics.add_metric(name="OAuthConnected", unit="Count", value=1)
    logger.info("organisation connected", extra={"org_id": flow["org_id"], "user_id": flow.get("user_id")})
    return _with_query(flow["return_to"], clickup="connected")


def _complete(state: str, flow: dict[str, Any], params: dict[str, str], remaining_s: Any, extra: dict[str, str]) -> str:
    """The claimed flow carried through: `connected`, or the reason it failed (`extra` gets `retry_after`, in
    seconds, when ClickUp's budget is spent)."""
    org_id = flow["org_id"]
    if int(flow["expires_at"]) < time.time():
        return "state_expired"
    if params.get("error"):
        return "access_denied"
    code = params.get("code")
    if not code:
        return "code_missing"
    if not is_token_text(code, max_chars=CODE_MAX_CHARS):
        return "code_invalid"  # ClickUp issues visible ASCII codes: this one cannot be exchanged
    if not org_settings.get(org_id).enabled:
        return "module_disabled"
    try:
        client_secret = _client_secret()
    except Exception as exc:  # noqa: BLE001 (the deployment's fault, not the user's: named by GET /health)
        logger.error("the ClickUp client secret cannot be read", extra={"error": type(exc).__name__})
        return "not_configured"
    try:
        token = exchange_code(settings().clickup_client_id, client_secret, code)
    except ClickUpError as exc:
        _retry_after(exc, extra)
        return _exchange_reason(exc)
    try:
        lifecycle.connect_with_token(
            org_id, token, "oauth", remaining_s=remaining_s, oauth_state=oauth_states.state_hash(state)
        )
    except ClickUpError as exc:
        _retry_after(exc, extra)
        return _clickup_reason(exc)
    except BridgeError as exc:
        return exc.code
    return CONNECTED


# The OAuth app's own credentials or registration refused (ClickUp's "common errors" page: OAUTH_007 redirect URI
# not registered, OAUTH_010 client not found, OAUTH_017 redirect URI missing; OAUTH_011, a wrong client secret,
# is the emulator's choice where ClickUp documents no code): the deployment's fault, never the user's code.
APP_REFUSED_CODES = frozenset({"OAUTH_007", "OAUTH_010", "OAUTH_011", "OAUTH_017"})


def _retry_after(exc: ClickUpError, extra: dict[str, str]) -> None:
    if isinstance(exc, RateLimited):
        extra["retry_after"] = str(max(1, math.ceil(exc.reset_at - time.time())))


def _exchange_reason(exc: ClickUpError) -> str:
    """Why `POST /oauth/token` failed, as the browser's `reason`: retry later (`clickup_rate_limited`,
    `clickup_unavailable`), start again (`exchange_failed`: ClickUp refused the code, e.g. used, expired or
    issued to another app), or not at all until an operator acts (`app_rejected`: ClickUp refused the app's client
    id, secret or redirect URI)."""
    if isinstance(exc, (RateLimited, Transient)):
        return _clickup_reason(exc)
    if exc.ecode in APP_REFUSED_CODES:
        return "app_rejected"
    return "exchange_failed"


def _clickup_reason(exc: ClickUpError) -> str:
    """A ClickUp failure as a stable reason: `clickup_rate_limited` (the budget is spent: later),
    `clickup_unavailable` (5xx, timeout: later), `token_revoked` (the token was refused: start again),
    `workspace_not_authorized` (no workspace granted: start again and pick one), `clickup_refused` (another 4xx)."""
    if isinstance(exc, RateLimited):
        return "clickup_rate_limited"
    if isinstance(exc, Transient):
        return "clickup_unavailable"
    if isinstance(exc, TokenRevoked):
        return "token_revoked"
    if isinstance(exc, WorkspaceNotAuthorized):
        return "workspace_not_authorized"
    return "clickup_refused"


def _record(state: str, outcome: str) -> None:
    """Keep the claim's outcome for a repeated callback; a failure to write it never fails this callback (the
    repeated one then answers `state_invalid`)."""
    try:
        oauth_states.finish(state, outcome)
    except Exception:  # noqa: BLE001 (the browser still gets this callback's true outcome)
        logger.exception("could not record the oauth callback's outcome", extra={"outcome": outcome})


def _replayed(state: str, remaining_s: Any) -> str:
    """A callback whose state was claimed before: where the first claim's outcome sends the browser."""
    flow = oauth_states.read(state)
    if flow is None:
        return _fail(settings().portal_origin, "state_invalid")
    # The first callback may still be running (a double click): wait for its outcome, within the time left.
    budget = min(REPLAY_WAIT_S, (remaining_s() - 2.0) if remaining_s else REPLAY_WAIT_S)
    deadline = time.monotonic() + budget
    while "outcome" not in flow and time.monotonic() < deadline:
        time.sleep(REPLAY_POLL_S)
        flow = oauth_states.read(state) or flow
    return_to = flow["return_to"]
    if int(flow["expires_at"]) < time.time():
        return _fail(return_to, "state_expired")
    if flow.get("outcome") == CONNECTED:
        conn = service.current(flow["org_id"])
        if conn.status == CONNECTED and conn.oauth_state == oauth_states.state_hash(state):
            metrics.add_metric(name="OAuthCallbackRepeated", unit="Count", value=1)
            logger.info("oauth callback repeated after a connect", extra={"org_id": flow["org_id"]})
            return _with_query(return_to, clickup="connected")
    return _fail(return_to, "state_invalid")


def _client_secret() -> str:
    """The OAuth app's client secret from Secrets Manager (cached 5 min). Raises when it was never stored
    (`clickup-bridge secret set`: the stack creates the secret without a value) or cannot be read."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(settings().clickup_client_secret_name, max_age=300)
    return str(value)
