"""The HTTP API: routes from infra/definitions.py, the portal's JWT authorizer, access logs, throttling."""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import definitions as d
from infra.nag import acknowledge

# Routes without the portal's JWT, and why each is safe without it.
PUBLIC_ROUTE_REASONS = {
    "GET /health": "Health probe for monitors; returns only version and dependency status, no tenant data.",
    "GET /docs": "The API's documentation page (the public OpenAPI document, no tenant data); a browser opens it "
    "without a JWT. The API_DOCS_ENABLED deployment input switches it off.",
    "GET /clickup/oauth/callback": "ClickUp redirects the user's browser here without our JWT; the single-use, "
    "expiring OAuth state (bound to organisation, user and return_to) authenticates the request.",
    "POST /webhooks/clickup": "ClickUp cannot send our JWT; every delivery is authenticated by its X-Signature "
    "(HMAC-SHA256 of the exact body with the secret of the webhook it names) and rejected with 401 otherwise.",
}


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogs:
    """Access logs as JSON with the standard fields (requestId, ip, status, latency...)."""

    def __init__(self, group: logs.ILogGroup) -> None:
        self._destination = apigw.LogGroupLogDestination(group)

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return apigw_v1.AccessLogFormat.json_with_standard_fields(
            caller=False,
            http_method=True,
            ip=True,
            protocol=True,
            request_time=True,
            resource_path=True,
            response_length=True,
            status=True,
            user=False,
        )


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        functions: dict[str, lambda_.IFunction],
        jwt_issuer: str,
        jwt_audience: str,
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        self.http_api = apigw.HttpApi(
            self, "HttpApi", api_name=d.resource_name(stage, "api"), create_default_stage=False
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=log_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=d.STAGE_THROTTLE.rate_per_s, burst_limit=d.STAGE_THROTTLE.burst),
            access_log_settings=_AccessLogs(access_logs),
        )
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "PortalJwt", jwt_issuer, jwt_audience=[jwt_audience], identity_source=["$request.header.Authorization"]
        )
        integrations_by_fn = {
            name: integrations.HttpLambdaIntegration(f"{name.title().replace('_', '')}Integration", fn)
            for name, fn in functions.items()
        }
        route_settings: dict[str, dict[str, int]] = {}
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        for route in d.ROUTES:
            created = self.http_api.add_routes(
                path=route.path,
                methods=[apigw.HttpMethod(route.method)],
                integration=integrations_by_fn[route.function],
                authorizer=self.authorizer if route.authorized else apigw.HttpNoneAuthorizer(),
            )
            if not route.authorized:
                for r in created:
                    acknowledge(r, "AwsSolutions-APIG4", PUBLIC_ROUTE_REASONS[route.route_key])
            # Each route its own bucket (d.route_throttle): ClickUp's webhooks, the public routes and the portal's
            # routes cannot use up one another's. The stage names routes by key; they must exist first.
            throttle = d.route_throttle(route)
            route_settings[route.route_key] = {
                "ThrottlingRateLimit": throttle.rate_per_s,
                "ThrottlingBurstLimit": throttle.burst,
            }
            for r in created:
                self.stage.node.add_dependency(r)
        cfn_stage.route_settings = route_settings
        self.access_logs = access_logs
        self.timeout = Duration.seconds(29)
