"""The OAuth flow: start (a state bound to organisation, user and return_to) and the callback."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from bridge.api.principal import Principal
from bridge.clickup.client import exchange_code
from bridge.clickup.errors import ClickUpError, Transient
from bridge.connection import service
from bridge.core.config import settings
from bridge.core.errors import BridgeError, DependencyUnavailable
from bridge.core.observability import logger, metrics
from bridge.oauth.return_to import is_allowed
from bridge.repositories import oauth_states, org_settings

STATE_TTL_S = 600


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


def _fail(return_to: str, reason: str) -> str:
    metrics.add_metric(name="OAuthCallbackFailed", unit="Count", value=1)
    logger.info("oauth callback failed", extra={"reason": reason})
    return _with_query(return_to, clickup="error", reason=reason)


def callback(params: dict[str, str], remaining_s: Any = None) -> str:
    """Complete the flow; returns where to send the browser (never an error page, never a 5xx)."""
    state = params.get("state") or ""
    flow = oauth_states.consume(state) if state else None
    if flow is None:
        return _fail(settings().portal_origin, "state_invalid")
    return_to, org_id = flow["return_to"], flow["org_id"]
    if int(flow["expires_at"]) < time.time():
        return _fail(return_to, "state_expired")
    if params.get("error"):
        return _fail(return_to, "access_denied")
    if not params.get("code"):
        return _fail(return_to, "code_missing")
    if not org_settings.get(org_id).enabled:
        return _fail(return_to, "module_disabled")
    try:
        client_secret = _client_secret()
    except Exception as exc:  # noqa: BLE001 (the deployment's fault, not the user's: named by GET /health)
        logger.error("the ClickUp client secret cannot be read", extra={"error": type(exc).__name__})
        return _fail(return_to, "not_configured")
    try:
        token = exchange_code(settings().clickup_client_id, client_secret, params["code"])
    except Transient:
        return _fail(return_to, "clickup_unavailable")
    except ClickUpError:
        return _fail(return_to, "exchange_failed")
    try:
        service.connect_with_token(org_id, token, "oauth", remaining_s=remaining_s)
    except Transient:
        return _fail(return_to, "clickup_unavailable")
    except (ClickUpError, BridgeError) as exc:
        return _fail(return_to, getattr(exc, "code", None) or "exchange_failed")
    metrics.add_metric(name="OAuthConnected", unit="Count", value=1)
    logger.info("organisation connected", extra={"org_id": org_id, "user_id": flow.get("user_id")})
    return _with_query(return_to, clickup="connected")


def _client_secret() -> str:
    """The OAuth app's client secret from Secrets Manager (cached 5 min). Raises when it was never stored
    (`clickup-bridge secret set`: the stack creates the secret without a value) or cannot be read."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(settings().clickup_client_secret_name, max_age=300)
    return str(value)
