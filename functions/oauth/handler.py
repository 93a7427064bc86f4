"""ClickUp connection routes: OAuth connect/callback/disconnect, the connection, personal tokens, settings."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.api.models import error_responses
from bridge.api.principal import require_admin
from bridge.api.resolver import current_principal, make_resolver
from bridge.clickup.errors import ClickUpError, RateLimited, TokenRevoked, Transient, WorkspaceNotAuthorized
from bridge.connection import service
from bridge.connection.models import (
    ConnectionOut,
    ConnectOut,
    DefaultWorkspaceIn,
    PersonalTokenIn,
    PortalWebhookSecretOut,
    TestOut,
)
from bridge.core.config import settings
from bridge.core.errors import DependencyUnavailable, Unprocessable
from bridge.core.inputs import QueryBool
from bridge.core.observability import logger, metrics, tracer
from bridge.lifecycle import connection as lifecycle
from bridge.oauth import flow
from bridge.repositories import org_settings
from bridge.repositories.org_settings import OrgSettings

settings()
app = make_resolver(open_query=("/clickup/oauth/callback",))


def _remaining_s() -> float:
    return app.lambda_context.get_remaining_time_in_millis() / 1000


@app.get(
    "/clickup/oauth/connect",
    summary="Start connecting ClickUp (admin): the URL of ClickUp's consent page",
    responses=error_responses(400, 403, 409, 422, 503),
)
def connect(
    return_to: Annotated[
        str, Query(description="Where to send the browser back (allow-listed origin)", max_length=2048)
    ],
) -> ConnectOut:
    principal = require_admin(current_principal(app))
    return ConnectOut(**flow.start(principal, return_to))


@app.get(
    "/clickup/oauth/callback",
    summary="ClickUp sends the browser back here (no JWT); 302 to return_to",
    responses={302: {"description": "To return_to with clickup=connected or clickup=error&reason=<code>"}},
)
def callback() -> Response[None]:
    params = {k: v for k, v in (app.current_event.query_string_parameters or {}).items() if isinstance(v, str)}
    location = flow.callback(params, remaining_s=_remaining_s)
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"}, body="")


@app.delete(
    "/clickup/oauth/disconnect",
    summary="Disconnect ClickUp (admin); idempotent",
    responses={204: {"description": "Disconnected"}, **error_responses(403)},
)
def disconnect(
    purge: Annotated[QueryBool, Query(description="Also delete the ticket links (true or false)")] = False,
) -> Response[None]:
    principal = require_admin(current_principal(app))
    lifecycle.disconnect(principal.org_id, purge=purge)
    return Response(status_code=204, body="")


@app.get(
    "/api/v1/clickup/connection",
    summary="The organisation's ClickUp connection (never a secret)",
    responses=error_responses(403, 409),
)
def connection() -> ConnectionOut:
    org_id = current_principal(app).org_id
    service.require_enabled(org_id)
    return ConnectionOut.model_validate(service.view(org_id))


@app.put(
    "/api/v1/clickup/connection/default-workspace",
    summary="Choose the default workspace",
    responses=error_responses(403, 409, 422),
)
def default_workspace(body: DefaultWorkspaceIn) -> ConnectionOut:
    org_id = current_principal(app).org_id
    service.require_enabled(org_id)
    return ConnectionOut.model_validate(service.set_default_workspace(org_id, body.workspace_id))


@app.put(
    "/api/v1/clickup/connection/personal-token",
    summary="Connect with a personal API token (admin)",
    responses=error_responses(403, 409, 422, 429, 503),
)
def personal_token(body: PersonalTokenIn) -> ConnectionOut:
    org_id = require_admin(current_principal(app)).org_id
    service.require_enabled(org_id)
    token = service.personal_token(body.token.get_secret_value())
    try:
        lifecycle.connect_with_token(org_id, token, "personal_token", remaining_s=_remaining_s)
    except RateLimited:
        raise  # 429 with Retry-After
    except TokenRevoked:
        raise Unprocessable("ClickUp does not accept this token", code="token_invalid") from None
    except Transient:
        raise DependencyUnavailable("ClickUp is unavailable; try again", code="clickup_unavailable") from None
    except WorkspaceNotAuthorized as exc:
        raise Unprocessable(
            "ClickUp refused a workspace of this token", code="workspace_not_authorized", details={"ecode": exc.ecode}
        ) from None
    except ClickUpError as exc:
        raise Unprocessable(
            f"ClickUp refused the request ({exc.status})", code="clickup_refused", details={"ecode": exc.ecode}
        ) from None
    return ConnectionOut.model_validate(service.view(org_id))


@app.post(
    "/api/v1/clickup/connection/test",
    summary="Call ClickUp now: ok, revoked or unreachable",
    responses=error_responses(403, 409, 429),
)
def test_connection() -> TestOut:
    org_id = current_principal(app).org_id
    service.require_enabled(org_id)
    return TestOut.model_validate(service.test(org_id, remaining_s=_remaining_s))


@app.get(
    "/api/v1/clickup/settings",
    summary="The organisation's ClickUp module settings (409 stored_settings_invalid: the stored row no longer "
    "validates; PUT valid settings)",
    responses=error_responses(403, 409),
)
def get_settings() -> OrgSettings:
    return org_settings.get_checked(current_principal(app).org_id)


@app.put(
    "/api/v1/clickup/settings",
    summary="Replace the module settings (admin); unknown fields are rejected",
    responses=error_responses(403, 422),
)
def put_settings(body: OrgSettings) -> OrgSettings:
    org_id = require_admin(current_principal(app)).org_id
    from bridge.tasks import mapping

    if body.portal_webhook_url:
        from bridge.events import destination

        try:  # where events may be pushed (SSRF): public https only, loopback for the local stack alone
            destination.check_for_save(body.portal_webhook_url, allow_loopback=settings().portal_webhook_allow_loopback)
        except destination.DestinationRefused as refused:
            raise Unprocessable(
                refused.message,
                code="portal_webhook_url_not_allowed",
                details={"field": "portal_webhook_url", "reason": refused.reason},
            ) from None
    # lists, spaces and statuses must exist in the synced hierarchy; statuses are kept in their list's spelling
    return org_settings.put(org_id, mapping.check(org_id, body))


@app.post(
    "/api/v1/clickup/portal-webhook/secret",
    summary="Rotate the secret portal events are signed with (admin); the new secret is shown once",
    responses=error_responses(403),
)
def rotate_portal_webhook_secret() -> PortalWebhookSecretOut:
    org_id = require_admin(current_principal(app)).org_id
    from bridge.events import delivery

    return PortalWebhookSecretOut(secret=delivery.rotate_secret(org_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
