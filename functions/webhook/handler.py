"""ClickUp webhook ingestion: `POST /webhooks/clickup` (no JWT: ClickUp signs each delivery). Verified on the
exact bytes received, queued, answered 200 at once; ClickUp gives a delivery 7 seconds.

No HTTP resolver on this path: `bridge.webhooks.edge` answers the one route as the resolver did, so the cold start
loads only what checking a signature and sending one SQS message needs (issue 18). `app` (the route as the OpenAPI
document describes it) is built only when asked for.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.core import aws
from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.webhooks import edge

settings()
# ClickUp gives a delivery 7 s and the function has 10 s: a stalled AWS call fails within ~8 s at worst (two
# attempts of 1 s + 3 s), so the delivery gets 503 aws_unavailable, which ClickUp retries, rather than the
# function's timeout (a healthy SQS answers in milliseconds; 3 s also rides out a slow moment of the local stack)
aws.set_call_bounds(connect_timeout_s=1, read_timeout_s=3, max_attempts=2)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return edge.respond(event)


def __getattr__(name: str) -> Any:
    """`app`: the documented resolver (`local.openapi` reads each HTTP function's `app`)."""
    if name == "app":
        from bridge.api.webhook_route import documented_resolver

        return documented_resolver()
    raise AttributeError(name)
