"""Resolver factory: every HTTP function gets the same validation, error contract and body guards."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError, ResponseValidationError
from pydantic import ValidationError

from bridge.api.principal import Principal, principal_from_event
from bridge.clickup.errors import RateLimited as ClickUpRateLimited
from bridge.core import inputs
from bridge.core.errors import VALIDATION_CODES, BridgeError
from bridge.core.observability import logger

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"^({_TCHARS})/({_TCHARS})$")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _holds_lone_surrogate(text: str) -> bool:
    """True when the JSON text escapes a lone UTF-16 surrogate (`"\\ud800"`): valid JSON syntax, but not Unicode
    text (RFC 8259 §8.2 leaves its handling undefined; I-JSON, RFC 7493 §2.1, forbids it). Such a string cannot be
    encoded as UTF-8, so DynamoDB, SQS and every log line would fail on it later. Cheap unless the body holds a
    surrogate escape at all (a pair, i.e. an emoji, passes)."""
    if not _SURROGATE_ESCAPE.search(text):
        return False
    try:
        value = json.loads(text)
    except ValueError:
        return False  # not JSON: the validator answers 400 invalid_json
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def error_response(status: int, code: str, message: str, details: Any = None, headers: dict | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": body}, headers=headers or {}
    )


def json_media_type_problem(content_type: str | None) -> str | None:
    """Why a request body's `Content-Type` is not JSON, or None when it is.

    The rule (one for every body route): `application/json` or any type with the `+json` structured syntax suffix
    (RFC 6839 §3.1, e.g. `application/merge-patch+json`), compared case-insensitively (RFC 9110 §8.3.1: type,
    subtype and parameter names are case-insensitive), with any parameters; a `charset` parameter, if given, must be
    `utf-8` (RFC 8259 §8.1: JSON exchanged between systems is UTF-8). A missing `Content-Type` is read as JSON (RFC
    9110 §8.3 lets the recipient examine the data; a body that is not JSON then gets 400 `invalid_json`). Anything
    else (`text/plain`, forms, multipart, `application/json` with another charset) → 415 `unsupported_media_type`."""
    if content_type is None:
        return None
    essence, *parameters = content_type.split(";")
    match = _MEDIA_TYPE.match(essence.strip())
    if match is None:
        return f"{content_type[:100]!r} is not a media type; send the body as application/json"
    kind, subtype = match.group(1).lower(), match.group(2).lower()
    if not ((kind, subtype) == ("application", "json") or subtype.endswith("+json")):
        return f"{kind}/{subtype} is not accepted; send the body as application/json"
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return "a JSON body is UTF-8 (RFC 8259 §8.1); send it with charset=utf-8 or no charset"
    return None


def body_problem(event: Mapping[str, Any], reads_body: bool = True) -> tuple[int, str, str] | None:
    """What is wrong with a request body before any parsing: (status, code, message), or None.

    Only for a route that reads a body (`reads_body`); a route that reads none ignores any body sent. A body
    route answers 415 `unsupported_media_type` for a media type that is not JSON (`json_media_type_problem`),
    400 `body_required` without a body, 400 `invalid_body` for bad base64, non-UTF-8 bytes, a lone surrogate
    escape or a member name repeated in one object; 400 `invalid_json` for `NaN`/`Infinity`."""
    if not reads_body:
        return None
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    media_problem = json_media_type_problem(headers.get("content-type"))
    if media_problem is not None:
        return 415, "unsupported_media_type", media_problem
    raw = event.get("body")
    if raw is None or raw == "":
        return 400, "body_required", "this route needs a JSON body"
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
        text = data.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return 400, "invalid_body", "the body is not valid UTF-8 JSON"
    if _holds_lone_surrogate(text):
        return 400, "invalid_body", "the body holds a lone UTF-16 surrogate escape (not Unicode text)"
    problem = inputs.json_text_problem(text)
    if problem is not None:
        return 400, *problem
    return None


def _as_json(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event with its `Content-Type` spelt `application/json` (a JSON media type was accepted above, in any
    case or with a `+json` suffix), the one spelling Powertools' validator parses as JSON."""
    headers = {k: v for k, v in (event.get("headers") or {}).items() if str(k).lower() != "content-type"}
    return {**event, "headers": {**headers, "content-type": "application/json"}}


def _answer(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    """An error answered before routing, in the error shape (JSON with every non-ASCII character escaped, so a
    hostile name echoed in `details` stays valid UTF-8 whatever it holds)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": error}),
        "isBase64Encoded": False,
    }


class BridgeResolver(APIGatewayHttpResolver):
    """Rejects bodies the validator would choke on (non-UTF-8, bad base64, other media types) with a 4xx
    before routing: Powertools' validation middleware runs before any user middleware."""

    check_body = True
    open_query: frozenset[str] = frozenset()  # compiled route patterns whose query the route reads itself

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}$") -> re.Pattern[str]:
        """A route's `<param>` matches any text up to the next `/`, as API Gateway's `{param}` does: Powertools'
        own pattern accepts only some URI characters, so an id holding NUL, a bidi mark or an emoji, which API
        Gateway routed here, got 404 `route_not_found` instead of the 422 its parameter's validation gives."""
        return re.compile(base_regex.format(re.sub(r"(<\w+>)", r"(?P\1[^/]+)", rule)))

    def _route_of(self, event: Mapping[str, Any]) -> Any:
        """The route this event is for (None: no route; Powertools answers 404)."""
        try:
            method = str(event["requestContext"]["http"]["method"]).upper()
        except (KeyError, TypeError):
            return None
        path = str(event.get("rawPath") or "")
        for route in self._static_routes + self._dynamic_routes:
            if route.method == method and route.rule.match(path):
                return route
        return None

    def _unknown_query(self, event: Mapping[str, Any], route: Any) -> list[dict[str, Any]]:
        """Query parameters the route does not declare, as validation details (the query is strict, like the
        bodies' `extra="forbid"`: a misspelt `?purg=true` is refused, not silently ignored). A route in
        `open_query` reads its query itself (the OAuth callback: RFC 6749 §4.1.2 has the client ignore
        unrecognized response parameters)."""
        if route.rule.pattern in self.open_query:
            return []
        declared = {param.alias for param in route.dependant.query_params}
        names = [str(name) for name in (event.get("queryStringParameters") or {}) if name not in declared]
        return [
            {"field": f"query.{name[:100]}", "message": "unknown query parameter", "type": "extra_forbidden"}
            for name in sorted(names)
        ]

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        route = self._route_of(event)
        if route is None:
            return super().resolve(event, context)
        unknown = self._unknown_query(event, route)
        if unknown:
            return _answer(422, "validation_error", "the request is not valid", unknown)
        reads_body = self.check_body and bool(route.dependant.body_params)
        problem = body_problem(event, reads_body) if reads_body else None
        if problem is None:
            return super().resolve(_as_json(event) if reads_body else event, context)
        return _answer(*problem)

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """The routes' OpenAPI document, saying every status a route answers with the shape it really has:

        - a success response with the route's return model even when `responses=` lists only errors (Powertools
          drops the return schema whenever `responses` is given: 15 of 25 operations documented no success);
        - on a route with a body: 400 (`invalid_json`, `invalid_body`, `body_required`), 415
          (`unsupported_media_type`) and 422, with the JSON error shape (`ErrorBody`);
        - on a route with parameters: 422 with the error shape (Powertools documents its own `HTTPValidationError`,
          which this resolver never answers), and 422 on every route for an undeclared query parameter, but on
          the `open_query` routes, which read their query themselves."""
        from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

        from bridge.api.models import ErrorBody

        open_operations = {
            route.operation_id
            for route in self._static_routes + self._dynamic_routes
            if route.rule.pattern in self.open_query
        }

        for route in self._static_routes + self._dynamic_routes:
            responses = dict(route.responses or {})
            if responses and not any(200 <= int(status) < 400 for status in responses):
                route.responses = {route.status_code: {"description": "Success"}, **responses}
        document = super().get_openapi_schema(**kwargs).model_dump(mode="json", by_alias=True, exclude_none=True)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        defs = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(defs.pop("$defs", {}))
        schemas["ErrorBody"] = defs
        for operations in (document.get("paths") or {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    _document_errors(operation, open_query=operation.get("operationId") in open_operations)
        return OpenAPI.model_validate(document)


def _error_statuses(operation: dict[str, Any], open_query: bool) -> set[int]:
    """The error statuses the resolver itself answers on this OpenAPI operation: 400 and 415 on a route with a
    body; 422 on a route with a body or parameters, and for an undeclared query parameter on every route but the
    `open_query` ones."""
    statuses = set()
    if operation.get("requestBody"):
        statuses |= {400, 415}
    if operation.get("parameters") or operation.get("requestBody") or not open_query:
        statuses.add(422)  # an undeclared query parameter is refused on every route but open ones
    return statuses


def _document_errors(operation: dict[str, Any], open_query: bool) -> None:
    """Rewrite one OpenAPI operation's `responses` in place: the resolver's own error statuses with the JSON
    error shape (`ErrorBody`), Powertools' 422 dropped where the resolver never answers it, and no body on a 204
    or a redirect."""
    from bridge.api.models import error_responses

    error_schema = {"$ref": "#/components/schemas/ErrorBody"}
    answers = operation["responses"]
    statuses = _error_statuses(operation, open_query)
    if 422 not in statuses:
        answers.pop("422", None)
    for status, entry in error_responses(*sorted(statuses)).items():
        current = answers.get(str(status), {})
        answers[str(status)] = {
            "description": current.get("description", "Validation Error").replace(
                "Validation Error", entry["description"]
            ),
            "content": {"application/json": {"schema": error_schema}},
        }
    for status, answer in answers.items():
        if status == "204" or status.startswith("3"):
            answer.pop("content", None)  # no body (the `Response[None]` return is not one)


def _validation_details(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"] or ["body"]
        out.append({"field": ".".join(loc), "message": err.get("msg", "invalid"), "type": err.get("type", "")})
    return out


def make_resolver(check_body: bool = True, open_query: tuple[str, ...] = ()) -> BridgeResolver:
    """`check_body=False`: the route reads the raw bytes itself (ClickUp's webhooks: the signature decides).
    `open_query`: paths (Powertools rules, e.g. `/clickup/oauth/callback`) whose query the route reads itself;
    every other route refuses a query parameter it does not declare (422 `validation_error`)."""
    app = BridgeResolver(enable_validation=True)
    app.check_body = check_body
    app.open_query = frozenset(app._compile_regex(rule).pattern for rule in open_query)

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        details = _validation_details(exc.errors())
        if any(d["type"] == "json_invalid" for d in details):
            return error_response(400, "invalid_json", "the body is not valid JSON")
        codes = {d["type"] for d in details}
        code = codes.pop() if len(codes) == 1 and codes <= VALIDATION_CODES else "validation_error"
        return error_response(422, code, "the request is not valid", details)

    @app.exception_handler(ClickUpRateLimited)
    def _clickup_budget(exc: ClickUpRateLimited) -> Response:
        retry_after = max(1, math.ceil(exc.reset_at - time.time()))
        return error_response(
            429,
            "clickup_rate_limited",
            "this organisation's ClickUp budget is spent for now",
            headers={"Retry-After": str(retry_after)},
        )

    @app.exception_handler([ValidationError, ResponseValidationError])
    def _stored(exc: Exception) -> Response:
        # Request bodies and parameters were validated before the route ran (RequestValidationError above): a
        # model failing inside a route, or on the answer, was built from a stored row that no longer validates
        # (written before a rule existed, or by hand). The route reports it; other routes keep working.
        logger.warning("a stored record does not validate", extra={"error": type(exc).__name__})
        return error_response(409, "stored_record_invalid", "a stored record this route reads does not validate")

    @app.exception_handler(BridgeError)
    def _domain(exc: BridgeError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details or None)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(404, "route_not_found", "no such route")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        from bridge.core import aws

        if aws.is_transient(exc):  # DynamoDB/SQS/KMS timed out or throttled past botocore's retries
            logger.warning("aws unavailable", extra={"error": type(exc).__name__})
            return error_response(
                503,
                "aws_unavailable",
                "a storage or queue service of the bridge is briefly unavailable; the request is safe to repeat",
                headers={"Retry-After": "1"},
            )
        # The stack trace goes to the log (with the request id), never to the caller.
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; quote the request id to support")

    return app


def current_principal(app: APIGatewayHttpResolver) -> Principal:
    return principal_from_event(app.current_event)
