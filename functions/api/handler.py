"""Portal API: health and caller identity (later: hierarchy, customers, tickets, events feed)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from bridge.api.models import error_responses
from bridge.api.resolver import current_principal, make_resolver
from bridge.core.config import settings
from bridge.core.health import check_health
from bridge.core.observability import logger, metrics, tracer

settings()  # validate the environment at cold start
app = make_resolver()


class DependencyStatus(BaseModel):
    name: str
    status: str
    latency_ms: float
    error: str | None = None


class HealthReport(BaseModel):
    status: str
    version: str
    stage: str
    dependencies: list[DependencyStatus]


class Me(BaseModel):
    org_id: str
    user_id: str
    role: str


@app.get(
    "/health",
    summary="Health of the bridge and its dependencies",
    responses={200: {"description": "Healthy"}, 503: {"description": "A dependency is unavailable"}},
)
def health() -> Response[HealthReport]:
    report = HealthReport.model_validate(check_health())
    return Response(
        status_code=200 if report.status == "ok" else 503,
        content_type=content_types.APPLICATION_JSON,
        body=report.model_dump(exclude_none=True),
    )


@app.get(
    "/api/v1/me",
    summary="The caller as the bridge sees it (organisation, user, role)",
    responses=error_responses(401, 403),
)
def me() -> Me:
    p = current_principal(app)
    return Me(org_id=p.org_id, user_id=p.user_id, role=p.role)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
