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

from bridge.core.inputs import JsonRefused, is_clickup_id, strict_json
from bridge.core.recent import Recent
from bridge.queueing import producer
from bridge.queueing.producer import SQS_MAX_MESSAGE_BYTES as SQS_MAX_MESSAGE_BYTES
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


def _org_hook(org_id: str, workspace_id: str, webhook_id: str) -> Hook | None:
    row = webhooks.get(org_id, workspace_id)
    if not row or row.get("webhook_id") != webhook_id or not row.get("secret"):
        return None
    secret = envelope.open_envelope(org_id, envelope.WEBHOOK_SECRET, row["secret"])
    return Hook(org_id, workspace_id, webhook_id, secret)


def _load(webhook_id: str, fresh: bool = False) -> list[Hook]:
    """Every organisation using the webhook, each with the secret from its own row. Who uses it is read on every
    delivery (one consistent GetItem), so an organisation that joined a shared webhook receives from its first
    delivery on and one that left receives no more; each organisation's secret is kept 60 s per container (a
    webhook's secret never changes: a re-created webhook has a new id)."""
    meta = webhooks.shared(webhook_id)
    if not meta or not meta.get("workspace_id"):
        return []
    workspace_id = str(meta["workspace_id"])
    hooks = []
    for org_id in sorted(webhooks.members(meta)):
        key = f"{org_id}|{webhook_id}"
        if fresh:
            _hooks.forget(key)
        hook = _hooks.get(key, functools.partial(_org_hook, org_id, workspace_id, webhook_id))
        if hook is None:
            _hooks.forget(key)  # never kept: its row may be written a moment after it joined
            continue
        hooks.append(hook)
    return hooks


def _signed_by(hook: Hook, raw: bytes, signature: str) -> bool:
    """Constant-time comparison on bytes, so it never raises: `hmac.compare_digest` refuses `str` holding
    non-ASCII characters (TypeError), and a header may carry any character (a lone surrogate included)."""
    expected = hmac.new(hook.secret.encode("utf-8"), raw, hashlib.sha256).hexdigest().encode("ascii")
    given = signature.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.compare_digest(expected, given)


def verify(raw: bytes, signature: str | None) -> tuple[list[Hook], dict[str, Any]]:
    """The organisations this delivery is for (each one whose stored secret signed these bytes: a webhook shared by
    organisations connecting the same ClickUp user goes to each of them), and the parsed payload; `Rejected`
    otherwise."""
    try:
        payload = strict_json(raw)
    except JsonRefused as refused:  # NaN/Infinity, a repeated member name: refused before any lookup
        raise Rejected(400, refused.code, refused.message) from None
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, "invalid_body", "the body is not JSON") from None
    # A webhook id that ClickUp could not have issued is never looked up (nor made into a DynamoDB key).
    if not isinstance(payload, dict) or not is_clickup_id(payload.get("webhook_id")):
        raise Rejected(401, "unknown_webhook", "the payload names no webhook of this bridge")
    if not signature:
        raise Rejected(401, "missing_signature", "the X-Signature header is missing")
    webhook_id = payload["webhook_id"][:64]
    hooks = _load(webhook_id)
    signed = [hook for hook in hooks if _signed_by(hook, raw, signature)]
    if not signed:  # a row read before the organisation (re)joined: read the rows once more before rejecting
        hooks = _load(webhook_id, fresh=True)
        signed = [hook for hook in hooks if _signed_by(hook, raw, signature)]
    if not hooks:
        raise Rejected(401, "unknown_webhook", "the payload names no webhook of this bridge")
    if not signed:
        raise Rejected(401, "invalid_signature", "the signature does not match the body")
    return signed, payload


# SQS_MAX_MESSAGE_BYTES (imported above): SQS's message size limit, 1 MiB (`bridge.queueing.producer`). API
# Gateway's HTTP APIs accept bodies up to 10 MB (http-api-quotas.html), so a genuine delivery can be larger than
# what the queue takes.

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


def _message(hook: Hook, payload: dict[str, Any], received_ms: int) -> tuple[str, str]:
    """One organisation's queue message for a verified delivery, and 'queued', or 'reduced' when only what
    processing reads fit in an SQS message (SQS_MAX_MESSAGE_BYTES); `Rejected` 413 `payload_too_large` when even
    that does not fit."""
    message = {
        "kind": "delivery",
        "org_id": hook.org_id,
        "workspace_id": hook.workspace_id,
        "webhook_id": hook.webhook_id,
        "received_ms": received_ms,
        "payload": payload,
    }
    body = json.dumps(message)
    if len(body.encode("utf-8")) <= SQS_MAX_MESSAGE_BYTES:
        return body, "queued"
    body = json.dumps({**message, "payload": _reduced(payload)})
    if len(body.encode("utf-8")) > SQS_MAX_MESSAGE_BYTES:
        raise Rejected(413, "payload_too_large", "the delivery is larger than the bridge can queue (1 MiB)")
    return body, "reduced"


def enqueue(hooks: list[Hook], payload: dict[str, Any]) -> str:
    """Queue a verified delivery, one message per organisation using the webhook (each processes it against its own
    links only): 'queued', or 'reduced' (see `_message`); `Rejected` 413 when it cannot be queued (nothing is).
    Messages go 10 at a time (SendMessageBatch's limit) and never more than SQS_MAX_MESSAGE_BYTES a batch."""
    received_ms = int(time.time() * 1000)
    messages = [_message(hook, payload, received_ms) for hook in hooks]
    producer.enqueue_deliveries([body for body, _ in messages])
    return "reduced" if any(outcome == "reduced" for _, outcome in messages) else "queued"
