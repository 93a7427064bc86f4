"""ClickUp webhook ingestion: `POST /webhooks/clickup` (no JWT: ClickUp signs each delivery). Verified on the
exact bytes received, queued, answered 200 at once; ClickUp gives a delivery 7 seconds."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.api.models import error_responses
from bridge.api.resolver import error_response, make_resolver
from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.webhooks import ingest

settings()
# the signature over the exact bytes decides, whatever the media type or the query (a genuine delivery is never
# refused for a part the signature does not cover: ClickUp counts refusals against the webhook's health)
app = make_resolver(check_body=False, open_query=("/webhooks/clickup",))


def _raw_body() -> bytes:
    event = app.current_event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ingest.Rejected(400, "invalid_body", "the body is not valid base64") from None
    return body.encode("utf-8")


@app.post(
    "/webhooks/clickup",
    summary="ClickUp's webhook deliveries (signed with the webhook's secret; no JWT)",
    responses={200: {"description": "Verified and queued"}, **error_responses(400, 401, 413)},
)
def clickup_delivery(
    x_signature: Annotated[str | None, Header(alias="X-Signature", description="hex HMAC-SHA256 of the body")] = None,
) -> Response[dict[str, Any]]:
    try:
        hooks, payload = ingest.verify(_raw_body(), x_signature)
    except ingest.Rejected as rejected:
        metrics.add_metric(name=f"WebhookRejected_{rejected.code}", unit="Count", value=1)
        logger.warning("webhook delivery rejected", extra={"code": rejected.code})
        return error_response(rejected.status, rejected.code, rejected.message)
    try:
        outcome = ingest.enqueue(hooks, payload)
    except ingest.Rejected as rejected:  # genuine but too large to queue, even reduced to what processing reads
        metrics.add_metric(name=f"WebhookRejected_{rejected.code}", unit="Count", value=1)
        logger.warning("webhook delivery too large to queue", extra={"code": rejected.code})
        return error_response(rejected.status, rejected.code, rejected.message)
    if outcome == "reduced":
        metrics.add_metric(name="WebhookReduced", unit="Count", value=1)
    metrics.add_metric(name="WebhookAccepted", unit="Count", value=1)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body={"status": "queued"})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
