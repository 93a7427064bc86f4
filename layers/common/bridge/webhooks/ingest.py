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


# SQS's message size limit: 1 MiB = 1,048,576 bytes, the body's UTF-8 bytes and its message attributes together
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html; raised from
# 256 KiB in August 2025). API Gateway's HTTP APIs accept bodies up to 10 MB (http-api-quotas.html), so a genuine
# delivery can be larger than what the queue takes.
SQS_MAX_MESSAGE_BYTES = 1_048_576

# What processing reads of each history item (bridge.webhooks.processing.changes_from_history), by field; items
# of other fields (a description's before/after, custom fields) change nothing the bridge mirrors.
_READ_FIELDS = frozenset({"status", "priority", "due_date", "assignee_add", "assignee_rem", "section_moved", "comment"})
_ITEM_KEYS = ("id", "field", "date", "before", "after", "user", "comment")


def _reduced(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with only what processing reads: history items of the fields it mirrors, each with the keys it
    reads (a thin payload when none is left: processing then reads the task from ClickUp)."""
    history = payload.get("history_items")
    items: list[Any] = history if isinstance(history, list) else []
    kept = [
        {k: item[k] for k in _ITEM_KEYS if k in item}
        for item in items
        if isinstance(item, dict) and item.get("field") in _READ_FIELDS
    ]
    return {
        **{k: payload[k] for k in ("event", "task_id", "webhook_id", "team_id") if k in payload},
        **({"history_items": kept} if kept else {}),
        **{k: payload[k] for k in ("space_id", "folder_id", "list_id") if k in payload},
    }


def enqueue(hook: Hook, payload: dict[str, Any]) -> str:
    """Queue a verified delivery: 'queued', or 'reduced' when only what processing reads fit in an SQS message
    (SQS_MAX_MESSAGE_BYTES); `Rejected` 413 `payload_too_large` when even that does not fit (nothing queued)."""
    message = {
        "kind": "delivery",
        "org_id": hook.org_id,
        "workspace_id": hook.workspace_id,
        "webhook_id": hook.webhook_id,
        "received_ms": int(time.time() * 1000),
        "payload": payload,
    }
    body, outcome = json.dumps(message), "queued"
    if len(body.encode("utf-8")) > SQS_MAX_MESSAGE_BYTES:
        body, outcome = json.dumps({**message, "payload": _reduced(payload)}), "reduced"
        if len(body.encode("utf-8")) > SQS_MAX_MESSAGE_BYTES:
            raise Rejected(413, "payload_too_large", "the delivery is larger than the bridge can queue (1 MiB)")
    aws.client("sqs").send_message(QueueUrl=settings().webhook_queue_url, MessageBody=body)
    return outcome
