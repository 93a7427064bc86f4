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
from bridge.core.errors import VALIDATION_CODES, BridgeError
from bridge.core.observability import logger

_JSON_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/plain")
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


def body_problem(event: Mapping[str, Any]) -> tuple[int, str, str] | None:
    """What is wrong with a request body before any parsing: (status, code, message), or None."""
    raw = event.get("body")
    if not raw:
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        return 415, "unsupported_media_type", "send the body as application/json"
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
        text = data.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return 400, "invalid_body", "the body is not valid UTF-8 JSON"
    if _holds_lone_surrogate(text):
        return 400, "invalid_body", "the body holds a lone UTF-16 surrogate escape (not Unicode text)"
    return None


class BridgeResolver(APIGatewayHttpResolver):
    """Rejects bodies the validator would choke on (non-UTF-8, bad base64, other media types) with a 4xx
    before routing: Powertools' validation middleware runs before any user middleware."""

    check_body = True

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}$") -> re.Pattern[str]:
        """A route's `<param>` matches any text up to the next `/`, as API Gateway's `{param}` does: Powertools'
        own pattern accepts only some URI characters, so an id holding NUL, a bidi mark or an emoji, which API
        Gateway routed here, got 404 `route_not_found` instead of the 422 its parameter's validation gives."""
        return re.compile(base_regex.format(re.sub(r"(<\w+>)", r"(?P\1[^/]+)", rule)))

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        problem = body_problem(event) if self.check_body else None
        if problem is None:
            return super().resolve(event, context)
        status, code, message = problem
        return {
            "statusCode": status,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"error": {"code": code, "message": message}}),
            "isBase64Encoded": False,
        }


def _validation_details(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"] or ["body"]
        out.append({"field": ".".join(loc), "message": err.get("msg", "invalid"), "type": err.get("type", "")})
    return out


def make_resolver(check_body: bool = True) -> BridgeResolver:
    """`check_body=False`: the route reads the raw bytes itself (ClickUp's webhooks: the signature decides)."""
    app = BridgeResolver(enable_validation=True)
    app.check_body = check_body

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
        # The stack trace goes to the log (with the request id), never to the caller.
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; quote the request id to support")

    return app


def current_principal(app: APIGatewayHttpResolver) -> Principal:
    return principal_from_event(app.current_event)
