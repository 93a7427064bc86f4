"""Push delivery of portal events: each event is POSTed to the organisation's portal webhook URL with

    X-Bridge-Event-Id: <event id>            (stable per change: deduplicate on it)
    X-Bridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<exact body>" with the portal secret>

A 2xx is delivered; anything else (or no answer in 5 s) is retried by the queue with a growing delay, then the
DLQ. The pull feed (`GET /api/v1/clickup/events`) holds every event either way."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx

from bridge.core.clock import utc_now_iso
from bridge.core.recent import Recent
from bridge.repositories import org_settings, portal_webhook
from bridge.vault import envelope

TIMEOUT_S = 5.0
_secrets: Recent[str | None] = Recent(60.0)
_http: httpx.Client | None = None


class DeliveryFailed(Exception):
    """The portal did not take the event; the queue tries again later."""


def rotate_secret(org_id: str) -> str:
    """A new signing secret, stored sealed; returned once (the portal keeps it)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    portal_webhook.put(org_id, envelope.seal(org_id, envelope.PORTAL_WEBHOOK_SECRET, secret), utc_now_iso())
    _secrets.forget(org_id)
    return secret


def _secret(org_id: str) -> str | None:
    def load() -> str | None:
        row = portal_webhook.get(org_id)
        return envelope.open_envelope(org_id, envelope.PORTAL_WEBHOOK_SECRET, row["secret"]) if row else None

    return _secrets.get(org_id, load)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(event: dict[str, Any]) -> str:
    """'delivered', or why nothing was sent ('no_url', 'no_secret'); DeliveryFailed to be tried again."""
    global _http
    org_id = event["org_id"]
    # An answer that drops the event ("no URL", "no secret") is never taken from this container's cache: the admin
    # may have set them since, through another function (seen once each function had its own module state).
    url = org_settings.recent(org_id).portal_webhook_url or org_settings.get(org_id).portal_webhook_url
    if not url:
        return "no_url"
    secret = _secret(org_id)
    if not secret:
        _secrets.forget(org_id)
        secret = _secret(org_id)
    if not secret:
        return "no_secret"
    body = json.dumps(event, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "clickup-bridge",
        "X-Bridge-Event-Id": event["id"],
        "X-Bridge-Signature": signature(secret, int(time.time()), body),
    }
    _http = _http or httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
    try:
        answer = _http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(type(exc).__name__) from None
    if not 200 <= answer.status_code < 300:
        raise DeliveryFailed(f"the portal answered {answer.status_code}")
    return "delivered"
