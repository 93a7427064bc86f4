"""Generate the portal API's OpenAPI document from the code (each HTTP function's resolver).

`make openapi` writes docs/openapi.json; a test fails when the committed document drifts from the code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from infra import definitions as d
from local.runtime import ROOT, LocalFunction

DOCUMENT = ROOT / "docs" / "openapi.json"
# The copy the API function serves at GET /docs (bridge.api.docs): the same text, shipped in the layer
SERVED_COPY = ROOT / "layers" / "common" / "bridge" / "api" / "openapi.json"
_PLACEHOLDER_ENV = {
    "STAGE": "openapi",
    "TABLE_NAME": "openapi-table",
    "EVENT_BUS_NAME": "openapi-bus",
    "TOKENS_KEY_ID": "alias/x",
    "SYNC_QUEUE_URL": "https://sqs.invalid/q",
    "TASK_QUEUE_URL": "https://sqs.invalid/t",
    "WEBHOOK_QUEUE_URL": "https://sqs.invalid/w",
    "MAINTENANCE_QUEUE_URL": "https://sqs.invalid/m",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


def http_functions() -> list[str]:
    return sorted({r.function for r in d.ROUTES})


def resolver_of(function: str) -> Any:
    for key, value in _PLACEHOLDER_ENV.items():  # handlers validate their environment on import
        os.environ.setdefault(key, value)
    return LocalFunction(d.function(function), "openapi", "eu-west-1").load().app


def generate() -> dict[str, Any]:
    from bridge import __version__

    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "ClickUp bridge portal API",
            "version": __version__,
            "description": "Routes the portal calls. Portal routes need the portal's JWT (Bearer); the "
            "organisation always comes from its org_id claim.",
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"portalJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    authorized = {(r.method.lower(), r.path) for r in d.ROUTES if r.authorized}
    for function in http_functions():
        schema = json.loads(resolver_of(function).get_openapi_json_schema())
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if (method, path) in authorized:
                    operation["security"] = [{"portalJwt": []}]
                    # API Gateway's JWT authorizer answers it, in its own shape, before the function runs
                    operation.setdefault("responses", {})["401"] = {
                        "description": 'Missing or invalid JWT (API Gateway: `{"message": "Unauthorized"}`)',
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayMessage"}}},
                    }
                _gateway_too_large(operation)
                _unavailable(operation)
                document["paths"].setdefault(path, {})[method] = operation
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    document["components"]["schemas"]["GatewayMessage"] = {
        "title": "GatewayMessage",
        "description": "API Gateway's own answers (its JWT authorizer's 401, its 404 for no route, its 413 for a "
        "request over its limits)",
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string"}},
    }
    _portal_events(document)
    from local import openapi_examples

    openapi_examples.apply(document)
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


def _gateway_too_large(operation: dict[str, Any]) -> None:
    """API Gateway answers any route 413 `{"message": "Request Entity Too Large"}` before the function runs when a
    request is over its limits (HTTP API quotas: a 10 MB payload; 10,240 bytes of request line and header values).
    A route whose function answers 413 itself (its own error shape) documents either."""
    gateway = {"$ref": "#/components/schemas/GatewayMessage"}
    responses = operation.setdefault("responses", {})
    own = responses.get("413")
    if own is None:
        responses["413"] = {
            "description": "Over API Gateway's request limits (10 MB payload, 10,240 bytes of request line and "
            'header values): `{"message": "Request Entity Too Large"}`',
            "content": {"application/json": {"schema": gateway}},
        }
        return
    content = own.setdefault("content", {}).setdefault("application/json", {})
    content["schema"] = {"anyOf": [content["schema"], gateway]} if "schema" in content else gateway
    content.setdefault(
        "example", {"error": {"code": "payload_too_large", "message": "the request is larger than the route accepts"}}
    )


def _unavailable(operation: dict[str, Any]) -> None:
    """Any route may answer 503: the bridge's own `aws_unavailable` (DynamoDB, SQS or KMS timed out or throttled
    past the SDK's retries; `Retry-After`), and API Gateway's `{"message": "Service Unavailable"}` when the function
    did not answer within the integration's 30 s (HTTP API quotas). A route with its own 503 codes documents them
    too."""
    gateway = {"$ref": "#/components/schemas/GatewayMessage"}
    own = operation.setdefault("responses", {}).get("503")
    codes = "`aws_unavailable` (a storage or queue service; safe to repeat after `Retry-After`)"
    example = {
        "error": {
            "code": "aws_unavailable",
            "message": "a storage or queue service of the bridge is briefly unavailable; the request is safe to repeat",
        }
    }
    if own is None:
        operation["responses"]["503"] = {
            "description": f"Briefly unavailable: {codes}, or API Gateway's integration timeout "
            '(`{"message": "Service Unavailable"}`)',
            "content": {
                "application/json": {
                    "schema": {"anyOf": [{"$ref": "#/components/schemas/ErrorBody"}, gateway]},
                    "example": example,
                }
            },
        }
        return
    own["description"] = (
        f"{own.get('description', 'A dependency is unavailable')}; also {codes} or API Gateway's timeout"
    )
    content = own.setdefault("content", {}).setdefault("application/json", {})
    content["schema"] = {"anyOf": [content["schema"], gateway]} if "schema" in content else gateway
    content.setdefault("example", example)


def _portal_events(document: dict[str, Any]) -> None:
    """Portal events, one schema per type (bridge.events.models): `PortalEvent` is their union discriminated on
    `type`, the items of the feed route (`EventsOut.events`) and the body of the push (`webhooks.portalEvent`,
    OpenAPI 3.1's description of requests the API makes to its consumer)."""
    schemas = document["components"]["schemas"]
    events = schemas["EventsOut"]["properties"]["events"]
    schemas["PortalEvent"] = {
        "description": "A portal event: its `data` has the shape of its `type` (one schema per type)",
        **events["items"],
    }
    events["items"] = {"$ref": "#/components/schemas/PortalEvent"}
    document["webhooks"] = {
        "portalEvent": {
            "post": {
                "summary": "A portal event pushed to the organisation's portal_webhook_url",
                "description": 'Signed: `X-Bridge-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with '
                "the secret from POST /api/v1/clickup/portal-webhook/secret; deduplicate on `X-Bridge-Event-Id`. "
                "Anything but a 2xx within 5 s is retried.",
                "parameters": [
                    {"name": "X-Bridge-Event-Id", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "X-Bridge-Signature", "in": "header", "required": True, "schema": {"type": "string"}},
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PortalEvent"}}},
                },
                "responses": {"2XX": {"description": "Taken"}},
            }
        }
    }


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {DOCUMENT.relative_to(ROOT)}")
    args = parser.parse_args()
    text = render()
    if args.write:
        DOCUMENT.parent.mkdir(exist_ok=True)
        DOCUMENT.write_text(text)
        SERVED_COPY.write_text(text)
        print(f"wrote {DOCUMENT.relative_to(ROOT)} ({len(generate()['paths'])} paths)")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
