"""ClickUp's deliveries in: verify `X-Signature` (hex HMAC-SHA256 of the exact body bytes, keyed with the secret of
the webhook the payload names), queue the delivery and answer at once. Nothing here calls ClickUp; a delivery
that is not genuine is rejected with nothing queued."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from bridge.core import aws
from bridge.core.config import settings
from bridge.core.inputs import is_clickup_id
from bridge.core.recent import Recent
from bridge.repositories import webhooks
from bridge.vault import envelope

SECRET_MAX_AGE_S = 60.0


@dataclass(frozen=True)
class Hook:
    org_id: str
    workspace_id: str
    webhook_id: str
    secret: str


class Rejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_hooks: Recent[Hook | None] = Recent(SECRET_MAX_AGE_S)


def _load(webhook_id: str) -> Hook | None:
    row = webhooks.lookup(webhook_id)
    if not row or not row.get("secret"):
        return None
    secret = envelope.open_envelope(row["org_id"], envelope.WEBHOOK_SECRET, row["secret"])
    return Hook(row["org_id"], row["workspace_id"], webhook_id, secret)


def _signed_by(hook: Hook, raw: bytes, signature: str) -> bool:
    """Constant-time comparison on bytes, so it never raises: `hmac.compare_digest` refuses `str` holding
    non-ASCII characters (TypeError), and a header may carry any character (a lone surrogate included)."""
    expected = hmac.new(hook.secret.encode("utf-8"), raw, hashlib.sha256).hexdigest().encode("ascii")
    given = signature.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.compare_digest(expected, given)


def verify(raw: bytes, signature: str | None) -> tuple[Hook, dict[str, Any]]:
    """The webhook that signed these bytes, and the parsed payload; `Rejected` otherwise."""
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, "invalid_body", "the body is not JSON") from None
    # A webhook id that ClickUp could not have issued is never looked up (nor made into a DynamoDB key).
    if not isinstance(payload, dict) or not is_clickup_id(payload.get("webhook_id")):
        raise Rejected(401, "unknown_webhook", "the payload names no webhook of this bridge")
    if not signature:
        raise Rejected(401, "missing_signature", "the X-Signature header is missing")
    webhook_id = payload["webhook_id"]
    hook = _hooks.get(webhook_id, lambda: _load(webhook_id))
    if hook is not None and _signed_by(hook, raw, signature):
        return hook, payload
    _hooks.forget(webhook_id)  # a re-created webhook has a new secret: read it again once before rejecting
    hook = _hooks.get(webhook_id, lambda: _load(webhook_id))
    if hook is None:
        raise Rejected(401, "unknown_webhook", "the payload names no webhook of this bridge")
    if not _signed_by(hook, raw, signature):
        raise Rejected(401, "invalid_signature", "the signature does not match the body")
    return hook, payload


def enqueue(hook: Hook, payload: dict[str, Any]) -> None:
    message = {
        "kind": "delivery",
        "org_id": hook.org_id,
        "workspace_id": hook.workspace_id,
        "webhook_id": hook.webhook_id,
        "received_ms": int(time.time() * 1000),
        "payload": payload,
    }
    aws.client("sqs").send_message(QueueUrl=settings().webhook_queue_url, MessageBody=json.dumps(message))
