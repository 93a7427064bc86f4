"""`POST /webhooks/clickup` without the HTTP resolver: the webhook function's whole HTTP contract, kept light.

The ingestion function only checks a signature and queues one message, and ClickUp gives a delivery 7 seconds
(../shared/clickup/FACTS.md): its cold start must not pay for Powertools' event handler, its OpenAPI machinery and
pydantic's schema building (about half a naive handler's import, issue 18). `respond` answers an API Gateway HTTP
API (payload format 2.0) event exactly as the resolver did: the same status codes, error envelope, headers and
JSON spelling (`{"error": {"code", "message"}}`, `Content-Type: application/json`, no cookies), 404
`route_not_found` for anything but `POST /webhooks/clickup`, 500 `internal_error` (stack trace logged, never
returned) for an unexpected failure.

The route's OpenAPI description is `bridge.api.webhook_route.documented_resolver()`, in the HTTP layer above this
module: a Powertools resolver declaring the same route, whose handler is `deliver` itself; `local.openapi` reads it
(through the function module's `app`).
"""

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from bridge.core import aws
from bridge.core.observability import logger, metrics
from bridge.webhooks import ingest

ROUTE = ("POST", "/webhooks/clickup")
SUMMARY = "ClickUp's webhook deliveries (signed with the webhook's secret; no JWT)"


def http_response(status: int, body: Any) -> dict[str, Any]:
    """An HTTP API (2.0) response with a JSON body, spelled as Powertools' resolver spells it (compact JSON)."""
    return {
        "statusCode": status,
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "cookies": [],
    }


def error(status: int, code: str, message: str) -> dict[str, Any]:
    """The bridge's error envelope (bridge.api.models.ErrorBody)."""
    return http_response(status, {"error": {"code": code, "message": message}})


def _raw_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes ClickUp sent (API Gateway base64-encodes a body it does not take for text)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ingest.Rejected(400, "invalid_body", "the body is not valid base64") from None
    return str(body).encode("utf-8")


def _header(event: Mapping[str, Any], name: str) -> str | None:
    """A header's value; names compared ignoring case (HTTP APIs hand them over lower-cased)."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else None
    return None


def _route(event: Mapping[str, Any]) -> tuple[str, str]:
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(http.get("method") or "").upper(), str(event.get("rawPath") or http.get("path") or "")


def deliver(event: Mapping[str, Any], signature: str | None) -> dict[str, Any]:
    """Verify and queue one delivery: 200 `{"status": "queued"}`, or the rejection (nothing queued): 400/401, or
    413 `payload_too_large` when even what processing reads of it exceeds an SQS message."""
    try:
        hooks, payload = ingest.verify(_raw_body(event), signature)
    except ingest.Rejected as rejected:
        metrics.add_metric(name=f"WebhookRejected_{rejected.code}", unit="Count", value=1)
        logger.warning("webhook delivery rejected", extra={"code": rejected.code})
        return error(rejected.status, rejected.code, rejected.message)
    try:
        outcome = ingest.enqueue(hooks, payload)
    except ingest.Rejected as rejected:  # genuine but too large to queue, even reduced to what processing reads
        metrics.add_metric(name=f"WebhookRejected_{rejected.code}", unit="Count", value=1)
        logger.warning("webhook delivery too large to queue", extra={"code": rejected.code})
        return error(rejected.status, rejected.code, rejected.message)
    if outcome == "reduced":
        metrics.add_metric(name="WebhookReduced", unit="Count", value=1)
    metrics.add_metric(name="WebhookAccepted", unit="Count", value=1)
    return http_response(200, {"status": "queued"})


def respond(event: Mapping[str, Any]) -> dict[str, Any]:
    """The function's answer to an API Gateway HTTP API event (see the module's docstring)."""
    if _route(event) != ROUTE:
        return error(404, "route_not_found", "no such route")
    try:
        return deliver(event, _header(event, "X-Signature"))
    except Exception as exc:  # noqa: BLE001 - the resolver's catch-all (bridge.api.resolver._unexpected)
        if aws.is_transient(exc):  # DynamoDB/SQS slow or throttled: ClickUp retries a 5xx delivery
            logger.warning("aws unavailable", extra={"error": type(exc).__name__})
            answer = error(503, "aws_unavailable", "a storage or queue service is briefly unavailable; send it again")
            answer.setdefault("headers", {})["Retry-After"] = "1"
            return answer
        # The stack trace goes to the log (with the request id), never to the caller.
        logger.exception("unhandled error")
        return error(500, "internal_error", "internal error; quote the request id to support")
