"""ClickUp's deliveries in: verify `X-Signature` (hex HMAC-SHA256 of the exact body bytes, keyed with the secret of
the webhook the payload names), queue the delivery and answer at once. Nothing here calls ClickUp; a delivery
that is not genuine is rejected with nothing queued."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from bridge.core import aws
from bridge.core.config import settings
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


_secrets: Recent[str] = Recent(SECRET_MAX_AGE_S)


def _load(webhook_id: str) -> list[Hook]:
    """Every organisation using the webhook, each with the secret from its own row (read on every delivery, so an
    organisation that joined a shared webhook receives from its first delivery on; the opened secret is cached
    per envelope)."""
    hooks = []
    for row in webhooks.lookup(webhook_id):
        sealed = row.get("secret")
        if not sealed:
            continue
        key = f"{row['org_id']}|{sealed.get('nonce', '')}|{sealed.get('ct', '')}"
        secret = _secrets.get(
            key, functools.partial(envelope.open_envelope, row["org_id"], envelope.WEBHOOK_SECRET, sealed)
        )
        hooks.append(Hook(row["org_id"], row["workspace_id"], webhook_id, secret))
    return hooks


def _signed_by(hook: Hook, raw: bytes, signature: str) -> bool:
    expected = hmac.new(hook.secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def verify(raw: bytes, signature: str | None) -> tuple[list[Hook], dict[str, Any]]:
    """The organisations this delivery is for (each one whose stored secret signed these bytes: a webhook shared by
    organisations connecting the same ClickUp user goes to each of them), and the parsed payload; `Rejected`
    otherwise."""
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, "invalid_body", "the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("webhook_id"), str) or not payload["webhook_id"]:
        raise Rejected(401, "unknown_webhook", "the payload names no webhook of this bridge")
    if not signature:
        raise Rejected(401, "missing_signature", "the X-Signature header is missing")
    webhook_id = payload["webhook_id"][:64]
    hooks = _load(webhook_id)
    if not hooks:
        raise Rejected(401, "unknown_webhook", "the payload names no webhook of this bridge")
    signed = [hook for hook in hooks if _signed_by(hook, raw, signature)]
    if not signed:
        raise Rejected(401, "invalid_signature", "the signature does not match the body")
    return signed, payload


def enqueue(hooks: list[Hook], payload: dict[str, Any]) -> None:
    """One message per organisation: each processes the delivery against its own links only."""
    received_ms = int(time.time() * 1000)
    entries = [
        {
            "Id": str(n),
            "MessageBody": json.dumps(
                {
                    "kind": "delivery",
                    "org_id": hook.org_id,
                    "workspace_id": hook.workspace_id,
                    "webhook_id": hook.webhook_id,
                    "received_ms": received_ms,
                    "payload": payload,
                }
            ),
        }
        for n, hook in enumerate(hooks)
    ]
    sqs = aws.client("sqs")
    for start in range(0, len(entries), 10):  # SendMessageBatch takes at most 10 entries
        batch = entries[start : start + 10]
        if len(batch) == 1:
            sqs.send_message(QueueUrl=settings().webhook_queue_url, MessageBody=batch[0]["MessageBody"])
            continue
        answer = sqs.send_message_batch(QueueUrl=settings().webhook_queue_url, Entries=batch)
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} deliveries could not be queued")
