"""API Gateway HTTP API, locally: payload v2.0 events, the JWT authorizer, and response mapping.

Routes come from infra/definitions.py, the same list the CDK stack deploys.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt
from werkzeug.wrappers import Request, Response

from infra.definitions import RouteDef
from local.console import is_console_path
from local.runtime import ACCOUNT_ID, CallerTimeout, LocalFunction, PayloadTooLarge

# API Gateway quotas for HTTP APIs ("Amazon API Gateway quotas", HTTP API): a request's payload is at most 10 MB,
# and an integration answers within 30 seconds (the maximum, and the default when TimeoutInMillis is not set, as
# in our template), else the client gets 503 Service Unavailable. A Lambda function error (an exception, a
# timeout, a response Lambda refuses) is 500 Internal Server Error ("Working with AWS Lambda proxy integrations
# for HTTP APIs"); a request Lambda refuses as too large (over 6 MB as an event) is 413.
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 30.0
# "Total combined size of request line and header values: 10240 bytes" (HTTP API quotas). The page names no status
# for a request over it: the local adapter answers 413 like the other too-large requests; nothing is invoked.
MAX_REQUEST_LINE_AND_HEADER_VALUES_BYTES = 10240


def request_line_and_header_values_bytes(request: Request) -> int:
    line = f"{request.method} {request.full_path if request.query_string else request.path} "
    line += request.environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    return len(line.encode("latin-1", "replace")) + sum(
        len(value.encode("latin-1", "replace")) for _, value in request.headers.items()
    )


log = logging.getLogger("local.apigw")

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
ControlApp = Callable[[Request], Response | None]


@dataclass(frozen=True)
class CompiledRoute:
    route: RouteDef
    pattern: re.Pattern[str]
    specificity: tuple[int, int]  # literal segments first, then fewer parameters


def compile_route(route: RouteDef) -> CompiledRoute:
    regex, literals, params = "", 0, 0
    for segment in route.path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            regex += f"/(?P<{segment[1:-2]}>.+)"
            params += 100
        elif segment.startswith("{") and segment.endswith("}"):
            regex += f"/(?P<{segment[1:-1]}>[^/]+)"
            params += 1
        else:
            regex += "/" + re.escape(segment)
            literals += 1
    return CompiledRoute(route, re.compile(f"^{regex or '/'}$"), (-literals, params))


def _stringify_claim(value: Any) -> str:
    # API Gateway hands every claim to the integration as a string; arrays look like "[a b]".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class JwtAuthorizer:
    def __init__(self, jwks: dict[str, Any], issuer: str, audience: str) -> None:
        self._keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
        self.issuer, self.audience = issuer, audience

    def claims(self, authorization: str | None) -> dict[str, str] | None:
        if not authorization:
            return None
        token = authorization[7:] if authorization[:7].lower() == "bearer " else authorization
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if kid else next(iter(self._keys.values()), None)
            if key is None:
                return None
            decoded = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        return {k: _stringify_claim(v) for k, v in decoded.items()}


def _is_text(content_type: str, body: bytes) -> bool:
    if not any(content_type.startswith(t) for t in _TEXT_TYPES) and not content_type.endswith("+json"):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_event(
    request: Request, route: RouteDef, path_params: dict[str, str], claims: dict[str, str] | None
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        if key == "cookie":
            continue  # HTTP APIs move cookies into their own field
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    raw_query = request.query_string.decode("latin-1")
    query: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    now = time.time()
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": request.host,
        "domainPrefix": request.host.split(".")[0].split(":")[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "sourceIp": request.remote_addr or "127.0.0.1",
            "userAgent": request.headers.get("user-agent", ""),
        },
        "requestId": base64.b32encode(uuid.uuid4().bytes)[:16].decode().lower() + "=",
        "routeKey": route.route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    cookie_header = request.headers.get("cookie")
    if cookie_header:
        event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    body = request.get_data(cache=False)
    if body:
        if _is_text(headers.get("content-type", "").lower(), body):
            event["body"] = body.decode("utf-8")
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def to_response(result: Any) -> Response:
    """Map a handler's result back as API Gateway does for payload format 2.0."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Format 2.0 infers a 200 JSON response from anything else.
        return Response(json.dumps(result), status=200, content_type="application/json")
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    response = Response(data, status=int(result["statusCode"]))
    response.headers.remove("Content-Type")
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


def _gateway_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps({"message": message}), status=status, content_type="application/json", headers=headers or {}
    )


class HttpApi:
    """The WSGI application serving the HTTP API's routes."""

    def __init__(
        self,
        routes: Iterable[RouteDef],
        functions: dict[str, LocalFunction],
        authorizer: JwtAuthorizer,
        control: ControlApp | None = None,
        integration_timeout_s: float = INTEGRATION_TIMEOUT_S,
    ) -> None:
        self.integration_timeout_s = integration_timeout_s
        self._routes = sorted((compile_route(r) for r in routes), key=lambda c: c.specificity)
        self._functions = functions
        self._authorizer = authorizer
        self._control = control

    def match(self, method: str, path: str) -> tuple[RouteDef, dict[str, str]] | None:
        for compiled in self._routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            m = compiled.pattern.match(path)
            if m:
                return compiled.route, m.groupdict()
        return None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if self._control and (request.path.startswith("/_local/") or is_console_path(request.path)):
            handled = self._control(request)
            if handled is not None:
                return handled
        found = self.match(request.method, request.path)
        if found is None:
            return _gateway_error(404, "Not Found")
        route, params = found
        claims = None
        if route.authorized:
            claims = self._authorizer.claims(request.headers.get("authorization"))
            if claims is None:
                return _gateway_error(401, "Unauthorized", {"www-authenticate": 'Bearer error="invalid_token"'})
        too_long = request_line_and_header_values_bytes(request) > MAX_REQUEST_LINE_AND_HEADER_VALUES_BYTES
        if too_long or len(request.get_data()) > MAX_REQUEST_BODY_BYTES:
            return _gateway_error(413, "Request Entity Too Large")
        event = build_event(request, route, params, claims)
        try:
            result = self._functions[route.function].invoke(event, caller_timeout_s=self.integration_timeout_s)
        except PayloadTooLarge:
            return _gateway_error(413, "Request Entity Too Large")
        except CallerTimeout:
            log.error("integration timeout on %s", route.route_key)
            return _gateway_error(503, "Service Unavailable")
        except Exception:  # the function's error, its timeout, a response Lambda refused
            log.exception("function failed on %s", route.route_key)
            return _gateway_error(500, "Internal Server Error")
        return to_response(result)
